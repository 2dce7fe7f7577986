# Stage {{STAGE_ID}}: {{OPERATORS}}
{{ABOUT}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{NAME}}
  labels:
    app.kubernetes.io/name: {{APP}}
    app.kubernetes.io/component: stage-{{STAGE_ID}}
    app.kubernetes.io/managed-by: pipec
spec:
  replicas: {{REPLICAS}}
  selector:
    matchLabels:
      app.kubernetes.io/name: {{APP}}
      app.kubernetes.io/component: stage-{{STAGE_ID}}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {{APP}}
        app.kubernetes.io/component: stage-{{STAGE_ID}}
        app.kubernetes.io/managed-by: pipec
{{ANNOTATIONS}}
    spec:
      # On SIGTERM a worker finishes its batch, flushes its output and commits;
      # this leaves room for a checkpoint plus that before the SIGKILL.
      terminationGracePeriodSeconds: {{GRACE_SECONDS}}
      containers:
        - name: stage-{{STAGE_ID}}
          image: {{IMAGE}}
          command: ["node", "{{FILE}}"]
{{CONTAINER}}
{{VOLUMES}}
