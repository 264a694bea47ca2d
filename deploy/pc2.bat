@echo off
rem PC2: Kafka (Docker Desktop) and EV_Central.   Usage: pc2.bat <IP2> [central_port] [db_path]
rem Settings (environment, else defaults.env): KAFKA_PORT, CENTRAL_PORT (central_port wins),
rem HTTP_PORT.
setlocal
if "%~1"=="" (echo usage: %~nx0 ^<IP2^> [central_port] [db_path] & exit /b 2)
set "IP2=%~1"
if not "%~2"=="" set "CENTRAL_PORT=%~2"
set "DB=%~3"
if "%DB%"=="" set "DB=evcharging.db"
call "%~dp0common.bat" KAFKA_PORT CENTRAL_PORT HTTP_PORT || exit /b 2
rem compose.yaml reads both: the address other PCs use, and the port it publishes.
set "KAFKA_ADVERTISED_HOST=%IP2%"
docker compose -f "%~dp0..\compose.yaml" up -d --wait || (echo error: Docker could not start Kafka & exit /b 1)
echo Starting EV_Central on port %CENTRAL_PORT% (web panel http://%IP2%:%HTTP_PORT%/) ...
"%~dp0EV_Central.exe" %CENTRAL_PORT% %IP2%:%KAFKA_PORT% "%DB%" --http %HTTP_PORT%
