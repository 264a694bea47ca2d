@echo off
rem PC1: one driver per id, each in its own window, reading requests_<id>.txt or requests.txt.
rem Usage: pc1.bat <IP2> <DRIVER_ID> [DRIVER_ID ...]
if "%~2"=="" (echo usage: %~nx0 ^<IP2^> ^<DRIVER_ID^> [DRIVER_ID ...] & exit /b 2)
set IP2=%~1
shift
:next
if "%~1"=="" goto :eof
set FILE=requests_%~1.txt
if not exist "%FILE%" set FILE=requests.txt
start "EV_Driver %~1" "%~dp0EV_Driver.exe" %IP2%:9092 %~1 --file "%FILE%"
shift
goto next
