@echo off
rem PC2: Kafka (Docker Desktop) and EV_Central.   Usage: pc2.bat <IP2> [central_port]
if "%~1"=="" (echo usage: %~nx0 ^<IP2^> [central_port] & exit /b 2)
set IP2=%~1
set PORT=%~2
if "%PORT%"=="" set PORT=7000
set KAFKA_ADVERTISED_HOST=%IP2%
docker compose -f "%~dp0..\compose.yaml" up -d --wait || (echo error: Docker could not start Kafka & exit /b 1)
"%~dp0EV_Central.exe" %PORT% %IP2%:9092 evcharging.db
