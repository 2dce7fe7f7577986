# Settings and credentials for the workers of pipeline '{{PIPELINE}}', which k8s/stages.yaml
# reads by name and key. The values are placeholders: fill them in and apply this
# file once (kubectl apply -f k8s/config.yaml), or create a ConfigMap and a Secret
# with these names and keys your own way (kubectl create configmap / kubectl create
# secret generic). Applying it again puts the placeholders back.
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{CONFIG_NAME}}
  labels:
    app.kubernetes.io/name: {{APP}}
    app.kubernetes.io/managed-by: pipec
data:{{CONFIG_DATA}}
{{SECRET}}
