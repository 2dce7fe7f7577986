# Stage {{STAGE_ID}}: {{OPERATORS}}
# It ends when its bounded sources end, so it is a Job: a Deployment would start it
# again (it would find its sources ended and exit at once). Delete the Job and the
# stage's changelog topic to run it again from the start. Files
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
  # A failed pod is retried: the stage resumes after its last checkpoint (its
  # output, source positions and state commit together), so nothing is sent twice.
  backoffLimit: 6
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
