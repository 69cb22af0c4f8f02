; Lifeboat's Windows setup program, built on Linux by installer/dist.sh with
; makensis (Debian package nsis). dist.sh passes the metadata from
; FyneApp.toml and the paths:
;   -DNAME=Lifeboat -DVERSION=0.1.0 -DVERSION4=0.1.0.1 -DWEBSITE=...
;   -DEXE=path/to/lifeboat.exe -DICON=path/to/icon.ico -DOUTFILE=path/to/setup.exe
;   -DSIGN="command that signs %1 in place" (only when a certificate is given)
;
; Per-user install: no administrator rights, nothing outside the user's
; profile and HKCU. The uninstaller removes the program, its shortcut and its
; registry entries, and nothing else: backups live on the user's drive and
; settings and sign-ins in %APPDATA%\Lifeboat, and both stay.

; 64-bit setup: Lifeboat itself is x86-64 only.
Target amd64-unicode
ManifestDPIAware true
RequestExecutionLevel user
SetCompressor /SOLID lzma

!include "MUI2.nsh"
!include "LogicLib.nsh"
!include "Sections.nsh"

!macro Require SYMBOL
  !ifndef ${SYMBOL}
    !error "pass ${SYMBOL} with -D${SYMBOL}=... (see installer/dist.sh)"
  !endif
!macroend
!insertmacro Require NAME
!insertmacro Require VERSION
!insertmacro Require VERSION4
!insertmacro Require EXE
!insertmacro Require ICON
!insertmacro Require OUTFILE

!define UNINSTKEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${NAME}"
!define RUNKEY "Software\Microsoft\Windows\CurrentVersion\Run"
!define UNINSTALLER "Uninstall ${NAME}.exe"
; The flag the login entry starts the app with: the notification-area icon
; only, no window.
!define TRAYFLAG "--tray"

!ifdef SIGN
  ; Sign the setup program and the uninstaller it writes, after makensis
  ; has finished each of them (makensis 3.08+).
  !finalize '${SIGN} "%1"' = 0
  !uninstfinalize '${SIGN} "%1"' = 0
!endif

Name "${NAME}"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\${NAME}"
; Reinstalling or upgrading goes where the last install went.
InstallDirRegKey HKCU "${UNINSTKEY}" "InstallLocation"
BrandingText "${NAME} ${VERSION}"

VIProductVersion "${VERSION4}"
VIFileVersion "${VERSION4}"
VIAddVersionKey "ProductName" "${NAME}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "FileDescription" "${NAME} setup"
VIAddVersionKey "CompanyName" "The ${NAME} authors"
VIAddVersionKey "LegalCopyright" "MIT License, the ${NAME} authors"

!define MUI_ICON "${ICON}"
!define MUI_UNICON "${ICON}"
!define MUI_ABORTWARNING

!define MUI_WELCOMEPAGE_TEXT "This installs ${NAME} ${VERSION} for you only; it does not need administrator rights.$\r$\n$\r$\n${NAME} keeps a copy of your company's Microsoft 365 mail and OneDrive files on a drive you own."
!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_COMPONENTS
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!define MUI_FINISHPAGE_RUN "$INSTDIR\lifeboat.exe"
!define MUI_FINISHPAGE_RUN_TEXT "Open ${NAME} now"
!insertmacro MUI_PAGE_FINISH

!define MUI_UNCONFIRMPAGE_TEXT_TOP "This removes the ${NAME} program. Your backups, your settings and your sign-in are not touched: a later install picks them up again."
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES

!insertmacro MUI_LANGUAGE "English"

Section "${NAME}" SecApp
  SectionIn RO
  SetOutPath "$INSTDIR"
  File "/oname=lifeboat.exe" "${EXE}"
  WriteUninstaller "$INSTDIR\${UNINSTALLER}"
  CreateShortcut "$SMPROGRAMS\${NAME}.lnk" "$INSTDIR\lifeboat.exe" "" "$INSTDIR\lifeboat.exe" 0

  WriteRegStr HKCU "${UNINSTKEY}" "DisplayName" "${NAME}"
  WriteRegStr HKCU "${UNINSTKEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINSTKEY}" "DisplayIcon" "$INSTDIR\lifeboat.exe,0"
  WriteRegStr HKCU "${UNINSTKEY}" "Publisher" "The ${NAME} authors"
  !ifdef WEBSITE
    WriteRegStr HKCU "${UNINSTKEY}" "URLInfoAbout" "${WEBSITE}"
  !endif
  WriteRegStr HKCU "${UNINSTKEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTKEY}" "UninstallString" '"$INSTDIR\${UNINSTALLER}"'
  WriteRegStr HKCU "${UNINSTKEY}" "QuietUninstallString" '"$INSTDIR\${UNINSTALLER}" /S'
  WriteRegDWORD HKCU "${UNINSTKEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINSTKEY}" "NoRepair" 1
  ; Apps & features shows the size in KB.
  SectionGetSize ${SecApp} $0
  WriteRegDWORD HKCU "${UNINSTKEY}" "EstimatedSize" $0
SectionEnd

Section "Start at login (notification-area icon)" SecLogin
  WriteRegStr HKCU "${RUNKEY}" "${NAME}" '"$INSTDIR\lifeboat.exe" ${TRAYFLAG}'
SectionEnd

; Unticking the box on a reinstall takes the login entry away again.
Section "-ApplyLoginChoice"
  ${IfNot} ${SectionIsSelected} ${SecLogin}
    DeleteRegValue HKCU "${RUNKEY}" "${NAME}"
  ${EndIf}
SectionEnd

!insertmacro MUI_FUNCTION_DESCRIPTION_BEGIN
  !insertmacro MUI_DESCRIPTION_TEXT ${SecApp} "The ${NAME} program and its Start-menu shortcut."
  !insertmacro MUI_DESCRIPTION_TEXT ${SecLogin} "Start ${NAME} in the notification area when you sign in to Windows, so scheduled backups run."
!insertmacro MUI_FUNCTION_DESCRIPTION_END

Section "Uninstall"
  DeleteRegValue HKCU "${RUNKEY}" "${NAME}"
  Delete "$SMPROGRAMS\${NAME}.lnk"
  Delete "$INSTDIR\lifeboat.exe"
  Delete "$INSTDIR\${UNINSTALLER}"
  ; Not recursive: removes the folder only if nothing else is in it.
  RMDir "$INSTDIR"
  DeleteRegKey HKCU "${UNINSTKEY}"
SectionEnd
