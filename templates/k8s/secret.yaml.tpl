---
# Credentials: keep real values out of version control.
apiVersion: v1
kind: Secret
metadata:
  name: {{SECRET_NAME}}
  labels:
    app.kubernetes.io/name: {{APP}}
    app.kubernetes.io/managed-by: pipec
type: Opaque
stringData:{{SECRET_DATA}}
