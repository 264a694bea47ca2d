#!/usr/bin/env bash
# The entrypoint of compose.yaml's kafka-secure service (inside the apache/kafka image): the
# same secure broker as `deno task broker --secure` (scripts/kafka/secure.ts; keep the two
# alike): clients log in with SASL/SCRAM-SHA-256 as admin, central, engine or driver, and the
# StandardAuthorizer refuses what no ACL allows. Topics and ACLs are then made from the host
# with `deno task broker --grant <host:port> --credentials <dir>` (README, "Kafka with
# credentials"), so that the ACL table lives in one place (scripts/kafka/acls.ts).
#
# Passwords are made once, at random, in /var/lib/kafka/data/credentials/<user>.password
# (mode 0600), since KRaft takes SCRAM users only when its storage is formatted; they are
# never printed. Needs KAFKA_ADVERTISED_HOST and KAFKA_PORT (compose.yaml passes them).
set -euo pipefail
umask 077

DATA=/var/lib/kafka/data
CREDS="$DATA/credentials"
PROPS="$DATA/server.properties"
mkdir -p "$CREDS" "$DATA/kraft"
for user in admin central engine driver; do
  if [ ! -s "$CREDS/$user.password" ]; then
    if [ -f "$DATA/kraft/meta.properties" ]; then
      echo "kafka-secure: $CREDS/$user.password is missing, but the storage was formatted" \
        "with it: remove the volume to start again" >&2
      exit 1
    fi
    head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$CREDS/$user.password"
    echo >>"$CREDS/$user.password"
  fi
done
ADMIN_PW="$(head -n1 "$CREDS/admin.password")"

# The client listener on 9092 (published as KAFKA_PORT), the controller on loopback.
cat >"$PROPS" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:9093
listeners=CLIENT://0.0.0.0:9092,CONTROLLER://127.0.0.1:9093
advertised.listeners=CLIENT://${KAFKA_ADVERTISED_HOST:?}:${KAFKA_PORT:-9092}
controller.listener.names=CONTROLLER
listener.security.protocol.map=CLIENT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT
inter.broker.listener.name=CLIENT
sasl.enabled.mechanisms=SCRAM-SHA-256
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-256
listener.name.client.sasl.enabled.mechanisms=SCRAM-SHA-256
listener.name.client.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$ADMIN_PW";
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="$ADMIN_PW" user_admin="$ADMIN_PW";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:admin
auto.create.topics.enable=false
log.dirs=$DATA/kraft
num.partitions=3
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=24
EOF

if [ ! -f "$DATA/kraft/meta.properties" ]; then
  scram=()
  for user in admin central engine driver; do
    scram+=(--add-scram "SCRAM-SHA-256=[name=$user,password=$(head -n1 "$CREDS/$user.password")]")
  done
  /opt/kafka/bin/kafka-storage.sh format -t "$(/opt/kafka/bin/kafka-storage.sh random-uuid)" \
    -c "$PROPS" "${scram[@]}" >/dev/null
fi
exec /opt/kafka/bin/kafka-server-start.sh "$PROPS"
