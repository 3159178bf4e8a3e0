"""The schemas objects and meshgen's own files are checked against.

`meshgen_files`: yamale schemas of the config (meshgen.yaml) and environment files; `kube`: the
Kubernetes JSON schemas bundled with kubernetes-validate; `crd`: custom resource schemas
found through schema locations; `crd_import`: CRD YAML turned into those schemas.
"""
