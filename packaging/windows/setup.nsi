; DealerDesk Windows setup, built on Linux by packaging/build.sh with Debian's nsis:
;   makensis -INPUTCHARSET UTF8 -DVERSION=v1.2.3 -DSRC=<staged DealerDesk folder> -DOUT=<setup.exe> setup.nsi
; It does what install.cmd does (service, firewall rule, start) plus shortcuts and an
; entry in "Apps & features". The data stays in <install dir>\data, also on uninstall.
Unicode true
SetCompressor /SOLID lzma
RequestExecutionLevel admin

!ifndef VERSION
  !define VERSION dev
!endif
!define PORT 8090
!define UNINSTKEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\DealerDesk"

Name "DealerDesk 经销商管理系统"
OutFile "${OUT}"
; Not under Program Files: the data lives next to the program, and admins like it
; on a disk that survives a reinstall of Windows (choose D:\DealerDesk on the next page).
InstallDir "C:\DealerDesk"
InstallDirRegKey HKLM "${UNINSTKEY}" "InstallLocation"
ShowInstDetails show
ShowUninstDetails show

!include "MUI2.nsh"
!include "StrFunc.nsh"
${StrStr}
!define MUI_ABORTWARNING
!define MUI_FINISHPAGE_RUN
!define MUI_FINISHPAGE_RUN_TEXT "$(OpenBrowser)"
!define MUI_FINISHPAGE_RUN_FUNCTION OpenBrowser
!define MUI_FINISHPAGE_SHOWREADME "$INSTDIR\$(GuideFile)"
!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "SimpChinese"
!insertmacro MUI_LANGUAGE "English"

LangString OpenBrowser ${LANG_SIMPCHINESE} "打开 DealerDesk（http://localhost:${PORT}）"
LangString OpenBrowser ${LANG_ENGLISH} "Open DealerDesk (http://localhost:${PORT})"
LangString GuideFile ${LANG_SIMPCHINESE} "安装说明.txt"
LangString GuideFile ${LANG_ENGLISH} "README-Windows.txt"
LangString InstallFailed ${LANG_SIMPCHINESE} "服务安装失败，请查看上方的详细信息。"
LangString InstallFailed ${LANG_ENGLISH} "Installing the service failed: see the details above."
LangString DataKept ${LANG_SIMPCHINESE} "数据文件夹已保留：$INSTDIR\data$\r$\n确定不再需要这些数据时再手动删除。"
LangString DataKept ${LANG_ENGLISH} "The data folder was kept: $INSTDIR\data$\r$\nDelete it yourself only when you no longer need the data."

Function OpenBrowser
  ExecShell "open" "http://localhost:${PORT}"
FunctionEnd

Section "DealerDesk"
  SetShellVarContext all
  ; An upgrade or a reinstall: stop the running service so the program can be replaced.
  IfFileExists "$INSTDIR\dealerdesk.exe" 0 +3
    nsExec::ExecToLog '"$INSTDIR\dealerdesk.exe" service stop'
    Pop $0
  SetOutPath "$INSTDIR"
  File "${SRC}\dealerdesk.exe"
  File "${SRC}\README-Windows.txt"
  File "${SRC}\安装说明.txt"
  File "${SRC}\install.cmd"
  File "${SRC}\uninstall.cmd"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  ; Register the service unless it is there already (an upgrade keeps its settings).
  nsExec::ExecToStack '"$INSTDIR\dealerdesk.exe" service status'
  Pop $0
  Pop $1
  ${StrStr} $2 "$1" "not installed"
  StrCmp $2 "" installed
    nsExec::ExecToLog '"$INSTDIR\dealerdesk.exe" service install --data "$INSTDIR\data" --addr :${PORT}'
    Pop $0
    StrCmp $0 "0" installed
      MessageBox MB_ICONSTOP "$(InstallFailed)"
      Abort
  installed:
  nsExec::ExecToLog 'netsh advfirewall firewall delete rule name="DealerDesk"'
  Pop $0
  nsExec::ExecToLog 'netsh advfirewall firewall add rule name="DealerDesk" dir=in action=allow protocol=TCP localport=${PORT} remoteip=localsubnet profile=any'
  Pop $0
  nsExec::ExecToLog '"$INSTDIR\dealerdesk.exe" service start'
  Pop $0

  WriteINIStr "$DESKTOP\DealerDesk.url" "InternetShortcut" "URL" "http://localhost:${PORT}"
  CreateDirectory "$SMPROGRAMS\DealerDesk"
  WriteINIStr "$SMPROGRAMS\DealerDesk\DealerDesk.url" "InternetShortcut" "URL" "http://localhost:${PORT}"
  CreateShortcut "$SMPROGRAMS\DealerDesk\$(GuideFile).lnk" "$INSTDIR\$(GuideFile)"
  CreateShortcut "$SMPROGRAMS\DealerDesk\Uninstall DealerDesk.lnk" "$INSTDIR\uninstall.exe"

  WriteRegStr HKLM "${UNINSTKEY}" "DisplayName" "DealerDesk 经销商管理系统"
  WriteRegStr HKLM "${UNINSTKEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${UNINSTKEY}" "Publisher" "DealerDesk"
  WriteRegStr HKLM "${UNINSTKEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${UNINSTKEY}" "DisplayIcon" "$INSTDIR\dealerdesk.exe"
  WriteRegStr HKLM "${UNINSTKEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegDWORD HKLM "${UNINSTKEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINSTKEY}" "NoRepair" 1
SectionEnd

Section "Uninstall"
  SetShellVarContext all
  nsExec::ExecToLog '"$INSTDIR\dealerdesk.exe" service uninstall'
  Pop $0
  nsExec::ExecToLog 'netsh advfirewall firewall delete rule name="DealerDesk"'
  Pop $0
  Delete "$INSTDIR\dealerdesk.exe"
  Delete "$INSTDIR\README-Windows.txt"
  Delete "$INSTDIR\安装说明.txt"
  Delete "$INSTDIR\install.cmd"
  Delete "$INSTDIR\uninstall.cmd"
  Delete "$INSTDIR\uninstall.exe"
  Delete "$DESKTOP\DealerDesk.url"
  RMDir /r "$SMPROGRAMS\DealerDesk"
  RMDir "$INSTDIR" ; only if empty: the data folder stays
  DeleteRegKey HKLM "${UNINSTKEY}"
  MessageBox MB_ICONINFORMATION "$(DataKept)"
SectionEnd
