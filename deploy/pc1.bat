@echo off
rem PC1: one driver per id, each in its own window, reading requests_<id>.txt or requests.txt.
rem Usage: pc1.bat <IP2> <DRIVER_ID> [DRIVER_ID ...]
rem Settings (environment, else defaults.env): KAFKA_PORT.
setlocal
if "%~2"=="" (echo usage: %~nx0 ^<IP2^> ^<DRIVER_ID^> [DRIVER_ID ...] & exit /b 2)
rem SHIFT moves %0 too: keep this folder first.
set "HERE=%~dp0"
call "%~dp0common.bat" KAFKA_PORT || exit /b 2
set "IP2=%~1"
shift
:next
if "%~1"=="" goto :eof
set "FILE=requests_%~1.txt"
if not exist "%FILE%" set "FILE=requests.txt"
if not exist "%FILE%" (echo error: neither requests_%~1.txt nor requests.txt is here & exit /b 1)
start "EV_Driver %~1" "%HERE%EV_Driver.exe" %IP2%:%KAFKA_PORT% %~1 --file "%FILE%"
shift
goto next
