@echo off
rem DealerDesk: install and start the Windows service "dealerdesk".
rem Right-click this file and choose "Run as administrator".
rem The data goes into the "data" folder next to this file (e.g. C:\DealerDesk\data).
rem To use another port, change PORT below (8090 by default).
setlocal
set PORT=8090
set DIR=%~dp0
cd /d "%DIR%"

net session >nul 2>&1
if errorlevel 1 (
  echo This needs administrator rights: right-click install.cmd and choose "Run as administrator".
  pause
  exit /b 1
)

rem Install only if it is not installed yet, so running this again (after an upgrade) just starts it.
"%DIR%dealerdesk.exe" service status | find "not installed" >nul
if not errorlevel 1 (
  "%DIR%dealerdesk.exe" service install --data "%DIR%data" --addr :%PORT%
  if errorlevel 1 goto fail
)

rem Let the other computers and phones of the store's network reach DealerDesk.
netsh advfirewall firewall delete rule name="DealerDesk" >nul 2>&1
netsh advfirewall firewall add rule name="DealerDesk" dir=in action=allow protocol=TCP localport=%PORT% remoteip=localsubnet profile=any >nul
if errorlevel 1 echo Could not add the firewall rule; other computers may not reach port %PORT%.

"%DIR%dealerdesk.exe" service start
if errorlevel 1 goto fail

echo.
echo DealerDesk is running and starts with Windows. Opening http://localhost:%PORT% ...
echo Logs: %DIR%data\logs\dealerdesk.log   Backups: %DIR%data\backups
timeout /t 5 /nobreak >nul
start "" http://localhost:%PORT%
pause
exit /b 0

:fail
echo.
echo The installation did not finish: see the message above, and README-Windows.txt.
pause
exit /b 1
