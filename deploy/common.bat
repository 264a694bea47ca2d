@echo off
rem Called by pc1.bat, pc2.bat and pc3.bat with the names of the ports they use. Sets each
rem setting of defaults.env that the environment leaves unset (LOCATION: this PC's name), then
rem checks those ports: one line and exit code 2 on a bad one. No setlocal: the settings are
rem for the caller.
for /f "usebackq eol=# tokens=1,* delims==" %%a in ("%~dp0defaults.env") do if not defined %%a set "%%a=%%b"
if not defined LOCATION set "LOCATION=%COMPUTERNAME%"
:ports
if "%~1"=="" exit /b 0
call :port %1 || exit /b 2
shift
goto ports

:port
setlocal enabledelayedexpansion
set "value=!%~1!"
set "bad="
if "!value!"=="" set bad=1
for /f "delims=0123456789" %%c in ("!value!") do set bad=1
if not defined bad if "!value:~0,1!"=="0" set bad=1
if not defined bad if !value! gtr 65535 set bad=1
if defined bad (
  echo error: %~1 must be a number from 1 to 65535, got "!value!" 1>&2
  exit /b 1
)
exit /b 0
