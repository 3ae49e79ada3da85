"""Data that ships with the workbook or is generated on the fly (nothing downloads)."""
