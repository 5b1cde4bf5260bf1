/// A pod as an upstream API server returns it for `kubectl run web --image=busybox`, after
/// admission injected the `kube-api-access` volume, default tolerations and managed fields, with
/// a few fields this node does not know (affinity, topologySpreadConstraints) to prove they are
/// skipped.
let kubectlRunPod = #"""
{
  "apiVersion": "v1",
  "kind": "Pod",
  "metadata": {
    "creationTimestamp": "2025-03-10T09:14:03Z",
    "labels": {"run": "web"},
    "name": "web",
    "namespace": "default",
    "resourceVersion": "48211",
    "uid": "0b6f2a4e-7c1d-4f0e-9d55-3c1f4b8e2a10",
    "managedFields": [{"apiVersion": "v1", "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:run": {}}}}, "manager": "kubectl-run", "operation": "Update", "time": "2025-03-10T09:14:03Z"}]
  },
  "spec": {
    "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [{"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]}]}]}}},
    "containers": [{
      "image": "busybox",
      "imagePullPolicy": "Always",
      "name": "web",
      "args": ["httpd", "-f", "-p", "8080"],
      "ports": [{"containerPort": 8080, "protocol": "TCP", "name": "http"}],
      "env": [{"name": "MODE", "value": "demo"}, {"name": "POD_IP", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "status.podIP"}}}],
      "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}, "requests": {"cpu": "0.1", "memory": "64Mi"}},
      "readinessProbe": {"httpGet": {"path": "/", "port": "http", "scheme": "HTTP"}, "periodSeconds": 5, "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3},
      "terminationMessagePath": "/dev/termination-log",
      "terminationMessagePolicy": "File",
      "volumeMounts": [{"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "name": "kube-api-access-7xk2p", "readOnly": true}]
    }],
    "dnsPolicy": "ClusterFirst",
    "enableServiceLinks": true,
    "nodeName": "node-1",
    "preemptionPolicy": "PreemptLowerPriority",
    "priority": 0,
    "restartPolicy": "Always",
    "schedulerName": "default-scheduler",
    "securityContext": {},
    "serviceAccount": "default",
    "serviceAccountName": "default",
    "terminationGracePeriodSeconds": 30,
    "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "ScheduleAnyway"}],
    "tolerations": [
      {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists", "tolerationSeconds": 300},
      {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists", "tolerationSeconds": 300}
    ],
    "volumes": [{
      "name": "kube-api-access-7xk2p",
      "projected": {
        "defaultMode": 420,
        "sources": [
          {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
          {"configMap": {"items": [{"key": "ca.crt", "path": "ca.crt"}], "name": "kube-root-ca.crt"}},
          {"downwardAPI": {"items": [{"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}, "path": "namespace"}]}}
        ]
      }
    }]
  },
  "status": {
    "conditions": [
      {"lastProbeTime": null, "lastTransitionTime": "2025-03-10T09:14:05Z", "status": "True", "type": "PodReadyToStartContainers"},
      {"lastProbeTime": null, "lastTransitionTime": "2025-03-10T09:14:03Z", "status": "True", "type": "Initialized"},
      {"lastProbeTime": null, "lastTransitionTime": "2025-03-10T09:14:09Z", "status": "True", "type": "Ready"},
      {"lastProbeTime": null, "lastTransitionTime": "2025-03-10T09:14:09Z", "status": "True", "type": "ContainersReady"},
      {"lastProbeTime": null, "lastTransitionTime": "2025-03-10T09:14:03Z", "status": "True", "type": "PodScheduled"}
    ],
    "containerStatuses": [{
      "containerID": "containerd://5e0c1d9a",
      "image": "docker.io/library/busybox:latest",
      "imageID": "docker.io/library/busybox@sha256:6d9ac9237a84afe1516540f40a0fafdc86859b2141954b4d643af7066d598b74",
      "lastState": {"terminated": {"exitCode": 137, "reason": "Error", "startedAt": "2025-03-10T09:14:04Z", "finishedAt": "2025-03-10T09:14:06Z", "containerID": "containerd://1a2b"}},
      "name": "web",
      "ready": true,
      "restartCount": 1,
      "started": true,
      "state": {"running": {"startedAt": "2025-03-10T09:14:07Z"}},
      "volumeMounts": [{"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "name": "kube-api-access-7xk2p", "readOnly": true, "recursiveReadOnly": "Disabled"}]
    }],
    "hostIP": "10.0.0.11",
    "hostIPs": [{"ip": "10.0.0.11"}],
    "phase": "Running",
    "podIP": "10.244.1.7",
    "podIPs": [{"ip": "10.244.1.7"}],
    "qosClass": "Burstable",
    "startTime": "2025-03-10T09:14:03Z"
  }
}
"""#
