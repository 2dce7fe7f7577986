# The workloads of pipeline '{{PIPELINE}}' (built by pipec {{PIPEC_VERSION}} from {{SOURCE}}):
# one per stage, all running the image of ../Dockerfile with their stage's command.
# They read their settings and credentials from the objects of k8s/config.yaml.
#
#   kubectl apply -f k8s/config.yaml     (once, after filling in its placeholders)
#   pipec deploy-topics topics.json      (creates the Kafka topics pipec owns)
#   kubectl apply -f k8s/stages.yaml
#
# The image name is a placeholder, {{IMAGE}}: set your registry's name for the
# image of ../Dockerfile here, or with kustomize's images: field.
{{WORKLOADS}}
