"""nbgrader's settings in every pod of the class (deploy/z2jh/Dockerfile puts it in /etc/jupyter):
the course, the shared exchange volume, homework fetched into ~/workbook, stamps in UTC: what
deploy/hub/ writes into each home (mtml_lib.course.hub.nbgrader_config_text). The course folder's
own nbgrader_config.py still sets the collect (OwnedCollect) and the late policy."""

import os

c = get_config()  # noqa: F821 - provided by nbgrader

c.CourseDirectory.course_id = "mtml-workbook"
c.Exchange.root = "/srv/nbgrader/exchange"
c.Exchange.path_includes_course = True
c.Exchange.assignment_dir = os.path.expanduser("~/workbook")
c.Exchange.timezone = "UTC"

# The exchange is a shared volume and its files' owners are uids with no account in a pod: the
# collect of the graders' pods reads their names from the roster (the hub gives each row its uid).
if os.path.exists("/srv/mtml/roster/roster.csv"):
    from mtml_lib.course.hub import roster_uids

    c.OwnedCollect.owners = {
        uid: name for name, uid in roster_uids("/srv/mtml/roster/roster.csv").items()
    }
