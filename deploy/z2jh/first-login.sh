#!/bin/sh
# A pod's postStart (deploy/z2jh/values.yaml): at a user's first login, their edition's workbook
# in ~/workbook and, for the Korean edition, JupyterLab in Korean; later logins leave it alone.
set -e
edition="${MTML_EDITION:-en}"
[ -d "$HOME/workbook" ] || cp -r "/srv/mtml/handouts/$edition" "$HOME/workbook"
if [ "$edition" = ko ]; then
    settings="$HOME/.jupyter/lab/user-settings/@jupyterlab/translation-extension"
    mkdir -p "$settings"
    [ -f "$settings/plugin.jupyterlab-settings" ] ||
        echo '{"locale": "ko_KR"}' > "$settings/plugin.jupyterlab-settings"
fi
