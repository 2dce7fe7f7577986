# Image of pipeline '{{PIPELINE}}', built by pipec {{PIPEC_VERSION}} from {{SOURCE}}.
# One image runs every stage. The bundles are self-contained (the runtime, the
# connectors' clients and your code are inside them), so the image is node and
# the files of this folder: no npm install, no node_modules.
#
#   docker build -t {{IMAGE}} .        (in this folder)
#
# The command chooses the stage; stage 0 is the default:
#   docker run -e PIPEC_KAFKA_BROKERS=host:9092 {{IMAGE}}
#   docker run -e PIPEC_KAFKA_BROKERS=host:9092 {{IMAGE}} node stage-1.mjs
#   docker run {{IMAGE}} node local.mjs          (every stage in one process)
# k8s/stages.yaml gives each stage's workload its own command. The image name is
# a placeholder: tag and push it under your registry's name, and set that name
# in k8s/stages.yaml (kustomize: images: - name: {{IMAGE_NAME}}).
FROM node:20-slim
WORKDIR /app
# The working folder belongs to the node user, so a worker can write its
# dead-letter file (<pipeline>.dead-letter.jsonl) there.
RUN chown node:node /app
COPY {{FILES}} ./
USER node
# Stage workers that exchange records through Kafka serve /metrics (Prometheus)
# and /healthz on this port.
ENV PIPEC_METRICS_PORT={{METRICS_PORT}}
EXPOSE {{METRICS_PORT}}
CMD ["node", "stage-0.mjs"]
