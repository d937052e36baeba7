@echo off
rem One pass of the reminder daemon's jobs, for Task Scheduler where no service runs (see README: Deployment).
rem Register it to run every 5 minutes as the account that owns C:\zwgk\data:
rem   schtasks /Create /TN "zwgk daemon once" /SC MINUTE /MO 5 /RU zwgk /RP * /TR "C:\zwgk\deploy\windows\zwgk-once.cmd"
set ZWGK_DATABASE_URL=sqlite:///C:/zwgk/data/zwgk.db
set ZWGK_CONFIG=C:\zwgk\data\zwgk.toml
"C:\zwgk\venv\Scripts\zwgk.exe" daemon --once >> "C:\zwgk\logs\once.log" 2>&1
