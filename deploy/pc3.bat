@echo off
rem PC3: an engine and a monitor per charging point, each in its own window.
rem Usage: pc3.bat <IP2> <CP_ID> [CP_ID ...]     The n-th CP's engine listens on 7000+n.
if "%~2"=="" (echo usage: %~nx0 ^<IP2^> ^<CP_ID^> [CP_ID ...] & exit /b 2)
setlocal enabledelayedexpansion
set IP2=%~1
shift
set /a N=0
:next
if "%~1"=="" goto :eof
set /a N+=1
set /a PORT=7000+N
start "EV_CP_E %~1" "%~dp0EV_CP_E.exe" %IP2%:9092 !PORT!
start "EV_CP_M %~1" "%~dp0EV_CP_M.exe" 127.0.0.1:!PORT! %IP2%:7000 %~1
shift
goto next
