@echo off
rem DealerDesk: stop and remove the Windows service "dealerdesk" and its firewall rule.
rem Right-click this file and choose "Run as administrator".
rem The data folder (database, files, backups, logs) is NOT deleted.
setlocal
set DIR=%~dp0
cd /d "%DIR%"

net session >nul 2>&1
if errorlevel 1 (
  echo This needs administrator rights: right-click uninstall.cmd and choose "Run as administrator".
  pause
  exit /b 1
)

"%DIR%dealerdesk.exe" service uninstall
netsh advfirewall firewall delete rule name="DealerDesk" >nul 2>&1
echo.
echo The data was kept in %DIR%data - delete it yourself only if you no longer need it.
pause
