# Stage {{STAGE_ID}}: {{OPERATORS}}
# It ends when its bounded sources end, so it is a Job: a Deployment would start it
# again and read its input again. A Job runs once; delete it to run it again. Files
# it reads must be in the container at the paths the pipeline names, relative to
# /app (mount them there).
apiVersion: batch/v1
kind: Job
metadata:
  name: {{NAME}}
  labels:
    app.kubernetes.io/name: {{APP}}
    app.kubernetes.io/component: stage-{{STAGE_ID}}
    app.kubernetes.io/managed-by: pipec
spec:
  parallelism: {{PARALLELISM}}
  completions: {{PARALLELISM}}
  # A failed run is not retried: running the stage again sends its output again.
  backoffLimit: 0
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {{APP}}
        app.kubernetes.io/component: stage-{{STAGE_ID}}
        app.kubernetes.io/managed-by: pipec
{{ANNOTATIONS}}
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: {{GRACE_SECONDS}}
      containers:
        - name: stage-{{STAGE_ID}}
          image: {{IMAGE}}
          command: ["node", "{{FILE}}"]
{{CONTAINER}}
