@echo off
rem PC3: an engine and a monitor per charging point, each in its own window.
rem Usage: pc3.bat <IP2> <CP_ID> [CP_ID ...]
rem Settings (environment, else defaults.env): KAFKA_PORT, CENTRAL_PORT, ENGINE_PORT_BASE (the
rem first CP's engine; the next CP's is one more), PRICE, LOCATION (default: this PC's name).
setlocal enabledelayedexpansion
if "%~2"=="" (echo usage: %~nx0 ^<IP2^> ^<CP_ID^> [CP_ID ...] & exit /b 2)
rem SHIFT moves %0 too: keep this folder first.
set "HERE=%~dp0"
call "%~dp0common.bat" KAFKA_PORT CENTRAL_PORT ENGINE_PORT_BASE || exit /b 2
set "IP2=%~1"
set /a PORT=%ENGINE_PORT_BASE%
shift
:next
if "%~1"=="" goto :eof
rem The engine answers only its monitor, which runs here: 127.0.0.1.
start "EV_CP_E %~1" "%HERE%EV_CP_E.exe" %IP2%:%KAFKA_PORT% !PORT!
start "EV_CP_M %~1" "%HERE%EV_CP_M.exe" 127.0.0.1:!PORT! %IP2%:%CENTRAL_PORT% %~1 --location "%LOCATION%" --price %PRICE%
set /a PORT+=1
shift
goto next
