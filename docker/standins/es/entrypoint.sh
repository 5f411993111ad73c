#!/bin/sh
# Like the official image: ES_JAVA_OPTS adds to the JVM options (the heap, mostly); settings come from the environment.
set -e
cd /usr/share/elasticsearch
exec java -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true -Dfile.encoding=UTF-8 \
  -Djava.io.tmpdir=/tmp -Dlog4j2.disable.jmx=true -Dlog4j.shutdownHookEnabled=false \
  ${ES_JAVA_OPTS:--Xms1g -Xmx1g} -cp "/usr/share/elasticsearch/classes:/usr/share/elasticsearch/lib/*" \
  ContainerElasticsearch
