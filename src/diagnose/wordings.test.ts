import { describe, expect, it } from 'vitest'
import { diagnose } from './engine.js'
import { parseTrace } from './trace.js'

/**
 * The same failure worded by other tools and versions: rules match the meaning, so each of these
 * short excerpts (as pasted from real logs of the named tool) must land on the same category.
 */
const step = (...lines: string[]): string => ['Executing "step_script" stage of the job script', ...lines, 'ERROR: Job failed: exit code 1'].join('\n')
const clone = (...lines: string[]): string => ['Getting source from Git repository', 'Fetching changes with git depth set to 20...', ...lines, 'ERROR: Job failed: exit code 1'].join('\n')

const cases: [string, string, string, string?][] = [
  // [tool, log, expected top category, executor]
  ['wget', step('$ wget -q https://example.org/x.tgz', "wget: unable to resolve host address 'example.org'"), 'dns_resolution_failure'],
  ['busybox wget', step('$ wget https://dl.example.org/x', "wget: bad address 'dl.example.org'"), 'dns_resolution_failure'],
  ['maven', step('$ mvn -B package', '[ERROR] Failed to execute goal on project app: Could not transfer artifact: java.net.UnknownHostException: repo.maven.apache.org'), 'dns_resolution_failure'],
  ['docker pull (Go resolver)', step('$ docker pull node:20', 'Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io on 127.0.0.53:53: server misbehaving'), 'dns_resolution_failure'],
  ['ssh', step('$ ssh deploy@app.example.com uptime', 'ssh: Could not resolve hostname app.example.com: Name or service not known'), 'dns_resolution_failure'],
  ['git ssh clone', clone('ssh: connect to host gitlab.example.com port 22: Connection timed out', 'fatal: Could not read from remote repository.'), 'gitlab_host_unreachable_from_job'],
  ['old curl (gnutls git 2.7)', clone("fatal: unable to access 'https://gitlab.example.com/a/b.git/': Failed connect to gitlab.example.com:443; No route to host"), 'gitlab_host_unreachable_from_job'],
  ['maven connect timeout', step('$ mvn -B package', '[ERROR] Connect to repo.maven.apache.org:443 [repo.maven.apache.org/151.101.0.215] failed: Connect timed out'), 'egress_blocked_firewall'],
  ['wget timeout', step('$ wget https://example.org/big.iso', 'Connecting to example.org (example.org)|93.184.216.34|:443... failed: Connection timed out.'), 'egress_blocked_firewall'],
  ['npm timeout', step('$ npm ci', 'npm ERR! code ETIMEDOUT', 'npm ERR! errno ETIMEDOUT', 'npm ERR! network request to https://registry.npmjs.org/react failed, reason: connect ETIMEDOUT 104.16.3.35:443'), 'egress_blocked_firewall'],
  ['curl proxy 407 (old curl)', step('$ curl -sSf https://example.org', 'curl: (56) Received HTTP code 407 from proxy after CONNECT'), 'proxy_required'],
  ['go proxyconnect', step('$ go mod download', 'go: example.org/x@v1.0.0: Get "https://proxy.golang.org/example.org/x/@v/v1.0.0.mod": proxyconnect tcp: dial tcp 10.1.2.3:3128: connect: connection refused'), 'proxy_required'],
  ['python ssl', step('$ pip install -r requirements.txt', "Could not fetch URL https://pypi.corp.example/simple/flask/: There was a problem confirming the ssl certificate: HTTPSConnectionPool(host='pypi.corp.example', port=443): Max retries exceeded (Caused by SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate in certificate chain')))"), 'tls_untrusted_ca'],
  ['wget tls', step('$ wget https://files.corp.example/a.tgz', "ERROR: cannot verify files.corp.example's certificate, issued by 'CN=Corp Root CA':", '  Unable to locally verify the issuer\'s authority.'), 'tls_untrusted_ca'],
  ['git-lfs', clone('LFS: Get "https://gitlab.example.com/a/b.git/info/lfs/objects/abc": x509: certificate signed by unknown authority'), 'tls_untrusted_ca'],
  ['podman manifest', step('$ podman pull quay.io/acme/tool:9.9', 'Error: initializing source docker://quay.io/acme/tool:9.9: reading manifest 9.9 in quay.io/acme/tool: manifest unknown'), 'image_not_found'],
  ['docker hub private/missing', step('$ docker pull acme/secret-tool:1.0', "Error response from daemon: pull access denied for acme/secret-tool, repository does not exist or may require 'docker login': denied: requested access to the resource is denied"), 'image_not_found'],
  ['kaniko push', step('$ /kaniko/executor --destination registry.corp.example/app:1', 'error checking push permissions -- make sure you entered the correct tag name, and that you are authenticated correctly, and try again: checking push permission for "registry.corp.example/app:1": POST https://registry.corp.example/v2/app/blobs/uploads/: UNAUTHORIZED: authentication required; [map[Action:push Class: Name:app Type:repository]]'), 'registry_auth_failed'],
  ['zsh', step('$ terraform plan', 'zsh:1: command not found: terraform'), 'command_not_found'],
  ['dash', step('$ yq .a x.yml', 'sh: 1: yq: not found'), 'command_not_found'],
  ['powershell', step('$ make', "make : The term 'make' is not recognized as the name of a cmdlet, function, script file, or operable program."), 'command_not_found'],
  ['dash bashism', step('$ [[ -n "$X" ]] && echo y', 'sh: 1: [[: not found'), 'shell_mismatch'],
  ['pipefail under ash', step('$ set -o pipefail', '/bin/sh: set: line 1: illegal option -o pipefail'), 'shell_mismatch'],
  ['gcc OOM', step('$ make -j16', 'c++: fatal error: Killed signal terminated program cc1plus', 'compilation terminated.'), 'oom_killed'],
  ['JVM OOM', step('$ ./gradlew test', 'java.lang.OutOfMemoryError: Java heap space'), 'oom_killed'],
  ['pip no root', step('$ pip install -r requirements.txt', "ERROR: Could not install packages due to an OSError: [Errno 13] Permission denied: '/usr/local/lib/python3.12/site-packages/six.py'"), 'permission_denied_non_root'],
  ['apk no root', step('$ apk add curl', 'ERROR: Unable to lock database: Permission denied', 'ERROR: Failed to open apk database: Permission denied'), 'permission_denied_non_root'],
  ['git submodule prompt', clone("Cloning into '/builds/a/b/libs/c'...", "fatal: could not read Username for 'https://gitlab.example.com': No such device or address"), 'git_auth_job_token'],
  ['docker layer disk full', step('$ docker build .', 'failed to register layer: write /var/lib/docker/overlay2/abc/diff/usr/lib/libx.so: no space left on device'), 'no_space_left_on_device'],
  ['helm rbac', step('$ helm upgrade --install web ./chart -n prod', 'Error: UPGRADE FAILED: query: failed to query with labels: secrets is forbidden: User "system:serviceaccount:ci:default" cannot list resource "secrets" in API group "" in the namespace "prod"'), 'kubernetes_rbac_forbidden'],
  ['old timeout wording', step('$ ./long.sh', 'ERROR: Job failed: execution took longer than 3600 seconds'), 'job_timeout'],
  ['curl no route', step('$ curl -sS https://10.0.0.5/health', 'curl: (7) Failed to connect to 10.0.0.5 port 443 after 3 ms: No route to host'), 'egress_blocked_firewall'],
  ['go no route', step('$ ./deploy', 'Error: Get "https://10.0.0.5:6443/api": dial tcp 10.0.0.5:6443: connect: no route to host'), 'egress_blocked_firewall'],
  ['yarn socket timeout', step('$ yarn install', 'error An unexpected error occurred: "https://registry.yarnpkg.com/react/-/react-18.2.0.tgz: ESOCKETTIMEDOUT".'), 'egress_blocked_firewall'],
  ['apk dns', step('$ apk add git', 'WARNING: fetching https://dl-cdn.alpinelinux.org/alpine/v3.19/main: DNS lookup error', 'ERROR: unable to select packages:'), 'dns_resolution_failure'],
  ['docker push denied', step('$ docker push registry.gitlab.com/acme/app:1.0', 'The push refers to repository [registry.gitlab.com/acme/app]', 'denied: requested access to the resource is denied'), 'registry_auth_failed'],
  ['helper pull, DNS', ['Preparing the "docker" executor', 'ERROR: Job failed: failed to pull image "registry.gitlab.com/gitlab-org/gitlab-runner/gitlab-runner-helper:x86_64-v17.5.0" with specified policies [always]: Error response from daemon: Get "https://registry.gitlab.com/v2/": dial tcp: lookup registry.gitlab.com on 127.0.0.53:53: server misbehaving (manager.go:250:0s)'].join('\n'), 'helper_image_pull_failed'],
  ['namespace quota', ['Preparing the "kubernetes" executor', 'ERROR: Job failed (system failure): prepare environment: setting up build pod: pods "runner-abc" is forbidden: exceeded quota: compute-resources, requested: limits.memory=4Gi, used: limits.memory=6Gi, limited: limits.memory=8Gi.'].join('\n'), 'kubernetes_quota_exceeded'],
  // Pasted excerpts without any section marker: the error line alone must be enough.
  ['machine: preparation retries', ['Preparing the "docker+machine" executor', 'ERROR: Preparation failed: exit status 1', 'Will be retried in 3s ...', 'ERROR: Job failed (system failure): exit status 1'].join('\n'), 'machine_provisioning_failed'],
  ['machine: binary is not a program', 'ERROR: Preparation failed: fork/exec /usr/bin/docker-machine: exec format error', 'machine_provisioning_failed'],
  ['runner bug: cache volume permission container', 'ERROR: Job failed: adding cache volume: set volume permissions: running permission container "abc" for volume "runner-x-cache-1": waiting for permission container to finish: exit code 127', 'runner_version_bug'],
  ['log limit notice', "Job's log exceeded limit of 4194304 bytes.\nJob execution will continue but no more output will be collected.", 'job_log_limit_exceeded'],
  ['artifacts upload 502 retry', 'WARNING: Uploading artifacts as "archive" to coordinator... failed  id=1 responseStatus=502 Bad Gateway status=502 token=x', 'gitlab_server_error'],
  ['third-party 503', '\t* GET https://ghcr.io/v2/aquasecurity/trivy-db/manifests/2: UNAVAILABLE: service unavailable', 'upstream_service_unavailable'],
  ['runner host socket', 'ERROR: Preparation failed: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running? (docker.go:958:0s)', 'docker_engine_broken'],
  ['DOCKER_HOST 0.0.0.0', step('$ docker build .', 'failed to dial gRPC: cannot connect to the Docker daemon. Is \'docker daemon\' running on this host?: dial tcp 0.0.0.0:2376: connect: connection refused'), 'dind_docker_host_wrong'],
  ['ssh host key in a script', step('$ git clone git@git.example.com:a/b.git', "Cloning into 'b'...", 'Host key verification failed.', 'fatal: Could not read from remote repository.'), 'ssh_host_key_verification_failed'],
  ['ssh deploy key', 'git@gitlab.com: Permission denied (publickey).\nfatal: Could not read from remote repository.', 'ssh_publickey_denied'],
  ['buildah unprivileged', "error running subprocess: creating new mount namespace for [/bin/sh -c apk add nodejs]: operation not permitted", 'unprivileged_container_build'],
  ['arm image on amd64', 'standard_init_linux.go:228: exec user process caused: exec format error', 'image_wrong_architecture'],
  ['shallow file changed', "Fetching changes with git depth set to 50...\nfatal: shallow file has changed since we read it", 'git_worktree_corrupt'],
  ['k8s admission', 'ERROR: Job failed (system failure): prepare environment: setting up build pod: admission webhook "validation.gatekeeper.sh" denied the request: privileged container is not allowed', 'kubernetes_admission_denied'],
  ['k8s quota on secrets', 'ERROR: Job failed (system failure): prepare environment: setting up credentials: secrets "runner-abc" is forbidden: exceeded quota: object-counts, requested: secrets=1, used: secrets=100, limited: secrets=100', 'kubernetes_quota_exceeded'],
  ['k8s attach', 'ERROR: Job failed (system failure): error dialing backend: remote error: tls: internal error (container "build")', 'kubernetes_attach_failed', 'kubernetes'],
  ['kubectl SAN mismatch', 'Unable to connect to the server: x509: certificate is valid for 127.0.0.1, 10.0.0.2, not 10.0.0.9', 'tls_certificate_name_mismatch'],
  ['script name prefix', '/tmp/executor20170524-7-8ugb7h: line 15: npm: command not found', 'command_not_found'],
  ['tool unknown command', step('$ docker buildx build .', "docker: 'buildx' is not a docker command."), 'command_not_found'],
  ['killed by signal 9 (tool wording)', step('$ cargo build --release', 'error: could not compile `app` (lib)', 'Caused by:', '  process didn\'t exit successfully: `rustc ...` (signal: 9, SIGKILL: kill)', 'Killed by signal 9'), 'oom_killed'],
  ['pipeline rejected', 'Found errors in your .gitlab-ci.yml:\nbuild job: undefined need: compile', 'yaml_config_error'],
  ['bare system-failure exit status', 'ERROR: Job failed (system failure): exit status 2', 'machine_provisioning_failed'],
  ['exit 127 alone', 'ERROR: Job failed: exit code 127', 'command_not_found'],
  ['go exec of a missing program', 'ERROR: Job failed (system failure): exec: "git": executable file not found in $PATH', 'command_not_found'],
  ['registry credential helper', 'error getting credentials - err: exit status 1, out: `no usernames for registry.example.com`', 'registry_auth_failed'],
  ['apt disk full', "E: You don't have enough free space in /var/cache/apt/archives/.", 'no_space_left_on_device'],
  ['node memory eviction', 'The node was low on resource: memory. Container build was using 4Gi, which exceeds its request of 1Gi.', 'oom_killed'],
  ['tool entrypoint after the banner', 'Using Docker executor with image hashicorp/terraform:light ...\nTerraform has no command named "sh". Did you mean "show"?\nERROR: Job failed: exit code 127', 'image_entrypoint_override'],
  ['curl expired certificate', step('$ curl https://old.example.com', 'curl: (60) SSL certificate problem: certificate has expired'), 'tls_certificate_expired'],
  ['k8s distroless', ['Using Kubernetes executor with image gcr.io/distroless/base ...', 'Executing "step_script" stage of the job script', 'ERROR: Job failed: command terminated with exit code 126'].join('\n'), 'image_missing_shell', 'kubernetes'],
  ['git describe, tags out of reach', step('$ VERSION=$(git describe --tags)', "fatal: No tags can describe '3f2a9c1e0b7d4a6f8e2c1b0a9d8e7f6a5b4c3d2e'.", 'Try --always, or create some tags.'), 'shallow_clone_missing_ref'],
  ['git merge-base, branch not fetched', step('$ git merge-base develop HEAD', 'fatal: Not a valid object name develop'), 'shallow_clone_missing_ref'],
  ['git no such ref', step('$ npx lerna changed', "fatal: No such ref: 'develop'"), 'shallow_clone_missing_ref'],
  ['sonar-scanner target branch', step('$ sonar-scanner', 'WARN: Could not find ref: develop in refs/heads, refs/remotes/upstream or refs/remotes/origin'), 'shallow_clone_missing_ref'],
  ['npm 10 EACCES', step('$ npm install -g pnpm', 'npm error code EACCES', 'npm error syscall mkdir', 'npm error path /usr/local/lib/node_modules/pnpm', 'npm error errno -13'), 'permission_denied_non_root'],
  ['busybox process substitution', step('$ diff <(sort a.txt) <(sort b.txt)', '/bin/sh: eval: line 98: syntax error: unexpected "("'), 'shell_mismatch'],
  ['optparse-applicative entrypoint', ['Using Docker executor with image hadolint/hadolint:latest ...', "Invalid option `-c'", 'ERROR: Job failed: exit code 1'].join('\n'), 'image_entrypoint_override'],
  ['GNU getopt entrypoint', ['Using Docker executor with image example/tool:1 ...', "tool: invalid option -- 'c'", "Try 'tool --help' for more information.", 'ERROR: Job failed: exit code 1'].join('\n'), 'image_entrypoint_override'],
  ['entrypoint script eval (old runner)', ['Using Docker executor with image example/php-fpm:8.2 ...', 'Checking out 1a2b3c4d as main...', 'Skipping Git submodules setup', "/docker-entrypoint.sh: eval: line 12: syntax error near unexpected token `fi'", 'ERROR: Job failed: exit code 2'].join('\n'), 'image_entrypoint_override'],
  ['helper pull throttled', ['Preparing the "docker" executor', 'ERROR: Job failed: failed to pull image "gitlab/gitlab-runner-helper:x86_64-v13.12.0" with specified policies [always]: Error response from daemon: toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit (manager.go:205:1s)'].join('\n'), 'registry_rate_limited'],
  ['list item inside a block scalar', step('$ echo start', '/bin/sh: eval: line 52: -: not found'), 'yaml_config_error'],
  ['kaniko debug busybox shell', step('$ jq .version package.json', '/busybox/sh: eval: line 98: jq: not found'), 'command_not_found'],
  ['wrapper without execute bit', step('$ cd backend', '/bin/bash: line 142: ./mvnw: Permission denied'), 'script_not_executable'],
  ['docker 1.x client, no socket', step('$ docker version', 'Get http:///var/run/docker.sock/v1.20/version: dial unix /var/run/docker.sock: no such file or directory. Are you trying to connect to a TLS-enabled daemon without TLS?'), 'dind_service_missing'],
  ['buildx and TLS variables', step('$ docker buildx create --use --driver docker-container', 'ERROR: could not create a builder instance with TLS data loaded from environment. Please use `docker context create <context-name>` to create a context for current environment and then create a builder instance with context set to <context-name>'), 'dind_buildx_context_missing'],
  ['helm, TLS handshake stalls', step('$ helm repo add bitnami https://charts.bitnami.com/bitnami', 'Error: looks like "https://charts.bitnami.com/bitnami" is not a valid chart repository or cannot be reached: Get "https://charts.bitnami.com/bitnami/index.yaml": net/http: TLS handshake timeout'), 'tls_mtu_ssl_error_syscall'],
  ['pipeline ref gone', clone('Created fresh repository.', 'fatal: couldn\'t find remote ref refs/pipelines/987654'), 'pipeline_ref_missing'],
  ['markerless failed-job upload is a follow-on', ['Getting source from Git repository', 'fatal: couldn\'t find remote ref refs/pipelines/987654', 'Uploading artifacts for failed job', 'Uploading artifacts...', 'WARNING: reports/: no matching files', 'ERROR: No files to upload', 'ERROR: Job failed: exit code 1'].join('\n'), 'pipeline_ref_missing'],
  ['k8s clone, public GitLab name not resolved', clone("fatal: unable to access 'https://gitlab.example.com/a/b.git/': Could not resolve host: gitlab.example.com"), 'dns_resolution_intermittent_k8s', 'kubernetes'],
  ['docker clone, same name: a host-only name', clone("fatal: unable to access 'https://gitlab.example.com/a/b.git/': Could not resolve host: gitlab.example.com"), 'gitlab_host_unreachable_from_job', 'docker'],
  ['curl wording with the host lost in the paste', clone("fatal: unable to access '': Could not resolve host:"), 'dns_resolution_intermittent_k8s', 'kubernetes'],
  ['git child SIGKILLed (helper memory limit)', clone('error: --shallow-file died of signal 9', 'fatal: fetch-pack: invalid index-pack output'), 'oom_killed', 'kubernetes'],
  ['python subprocess SIGKILLed', step('$ python train.py', "subprocess.CalledProcessError: Command '['torchrun', 'train.py']' died with <Signals.SIGKILL: 9>."), 'oom_killed'],
  ['moved submodule, stale gitfile', clone('Updating/initializing submodules recursively with git depth set to 20...', "Synchronizing submodule url for 'libs/core'", 'fatal: not a git repository: libs/core/../../.git/modules/libs/core'), 'git_worktree_corrupt'],
  ['broken gitfile', clone('fatal: invalid gitfile format: vendor/lib/.git'), 'git_worktree_corrupt'],
  ['runner-generated env file missing', clone('/bin/bash: line 186: /builds/a/b.tmp/gitlab_runner_env: No such file or directory'), 'runner_version_bug'],
  ['containerd helper pull, registry 502', 'failed to resolve reference "registry.gitlab.com/gitlab-org/gitlab-runner/gitlab-runner-helper:x86_64-v16.0.0": failed to authorize: failed to fetch anonymous token: unexpected status: 502 Bad Gateway', 'helper_image_pull_failed'],
  ['docker helper pull with policy', ['Pulling docker image registry.gitlab.com/gitlab-org/gitlab-runner/gitlab-runner-helper:x86_64-v17.1.0 ...', 'WARNING: Failed to pull image with policy "always": Error response from daemon: Get "https://registry.gitlab.com/v2/": net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers) (manager.go:237:15s)', 'ERROR: Job failed: failed to pull image "registry.gitlab.com/gitlab-org/gitlab-runner/gitlab-runner-helper:x86_64-v17.1.0" with specified policies [always]: Error response from daemon: Get "https://registry.gitlab.com/v2/": net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers) (manager.go:237:15s)'].join('\n'), 'helper_image_pull_failed'],
  ['k8s helper never starts, ARM runner', ['Running with gitlab-runner 16.5.0 (853330f9)', '  on ci-runner-aarch64-pool Ab1cD2eF', 'Preparing the "kubernetes" executor', 'Using Kubernetes namespace: ci', 'Waiting for pod ci/runner-ab1cd2ef-project-1-concurrent-0 to be running, status is Pending', '\tContainersNotReady: "containers with unready status: [build helper]"', 'ERROR: Job failed (system failure): prepare environment: unable to upgrade connection: container not found ("helper"). Check https://docs.gitlab.com/runner/shells/index.html#shell-profile-loading for more information'].join('\n'), 'image_wrong_architecture', 'kubernetes'],
  ['testcontainers-java, no daemon', step('$ ./gradlew integrationTest', 'ERROR DockerClientProviderStrategy: Could not find a valid Docker environment. Please check configuration. Attempted configurations were:'), 'dind_service_missing'],
  ['testcontainers-node, no daemon', step('$ npm run test:int', 'Error: Could not find a working container runtime strategy'), 'dind_service_missing'],
  ['docker SDK for Python, no daemon', step('$ pytest tests/integration', "docker.errors.DockerException: Error while fetching server API version: ('Connection aborted.', FileNotFoundError(2, 'No such file or directory'))"), 'dind_service_missing'],
  ['script guards an empty variable', step('$ [ -z "${DEPLOY_TOKEN}" ] && echo "DEPLOY_TOKEN missing" && exit 1', 'DEPLOY_TOKEN missing'), 'protected_variable_unavailable'],
  ['bash ${VAR:?} on an empty variable', step('$ curl -sf -H "PRIVATE-TOKEN: ${API_TOKEN:?}" https://gitlab.example.com/api/v4/projects', '/bin/bash: line 130: API_TOKEN: parameter null or not set'), 'protected_variable_unavailable'],
  ['dash ${VAR:?} on an empty variable', step('$ ./release.sh "${RELEASE_KEY:?}"', '/bin/sh: 1: RELEASE_KEY: parameter not set or null'), 'protected_variable_unavailable'],
  ['requests, proxy without scheme', step('$ pip install -r requirements.txt', "requests.exceptions.InvalidURL: Proxy URL had no scheme, should start with http:// or https://"), 'proxy_required'],
  ['node, proxy without scheme', step('$ npx some-cli publish', 'TypeError [ERR_INVALID_URL]: Invalid URL: proxy.corp:3128', '    at new URL (node:internal/url:775:36)', '    at getProxyUrl (/app/node_modules/proxy-from-env/index.js:77:3)'), 'proxy_required'],
  ['redacted path on a private registry', step('$ docker pull "$CI_REGISTRY_IMAGE/builder:1"', "Error response from daemon: pull access denied for registry.gitlab.com/<IMAGE_PATH>, repository does not exist or may require 'docker login': denied: requested access to the resource is denied"), 'registry_auth_failed'],
  ['OCI client (helm/oras) push refused', step('$ helm push app-1.0.0.tgz oci://registry.example.com/charts', 'Error: unexpected status from HEAD request to https://registry.example.com/v2/charts/app/blobs/sha256:0123: 403 Forbidden'), 'registry_auth_failed'],
  ['buildkit insufficient scope', step('$ docker buildx build --push -t registry.example.com/app:1 .', 'ERROR: failed to solve: failed to push registry.example.com/app:1: insufficient_scope: authorization failed'), 'registry_auth_failed'],
  ['java PKIX', step('$ ./gradlew build', "> Could not resolve all files for configuration ':compileClasspath'.", '   > sun.security.validator.ValidatorException: PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target'), 'tls_untrusted_ca'],
  ['ruby openssl', step('$ bundle install', 'Could not fetch specs from https://gems.corp.example/ due to underlying error <SSL_connect returned=1 errno=0 peeraddr=10.0.0.9:443 state=error: certificate verify failed (unable to get local issuer certificate)>'), 'tls_untrusted_ca'],
  ['cache upload refused (runner wording)', ['Saving cache for successful job', 'Creating cache default-protected...', 'node_modules/: found 4211 matching artifact files and directories', 'WARNING: Retrying...                                error=received: 403 Forbidden', 'Failed to create cache', 'ERROR: Job failed: exit code 1'].join('\n'), 'cache_s3_access_denied'],
  ['pip/urllib3 retries on 503', step('$ pip install -r requirements.txt', "ERROR: Could not install packages due to an OSError: HTTPSConnectionPool(host='files.pythonhosted.org', port=443): Max retries exceeded with url: /packages/x.whl (Caused by ResponseError('too many 503 error responses'))"), 'upstream_service_unavailable'],
  ['kubelet unreachable on attach', ['Using Kubernetes executor with image node:20 ...', 'ERROR: Job failed (system failure): error dialing backend: dial tcp 10.0.0.5:10250: i/o timeout'].join('\n'), 'kubernetes_attach_failed', 'kubernetes'],
  ['rules expression rejected', 'jobs:deploy:rules:0:if invalid expression syntax', 'yaml_config_error'],
  ['include not valid YAML', 'Included file `ci/templates/build.yml` does not have valid YAML syntax!', 'yaml_config_error'],
  ['include project not reachable', 'Project `group/templates` not found or access denied! Make sure any includes in the pipeline configuration are correctly defined.', 'yaml_config_error'],
  ['kubectl image, cobra lower-case error', ['Using Docker executor with image bitnami/kubectl:latest ...', 'error: unknown command "sh" for "kubectl"', 'ERROR: Job failed: exit code 1'].join('\n'), 'image_entrypoint_override'],
  ['git bad revision range', step('$ git log --oneline v1.0.0..HEAD', "fatal: bad revision 'v1.0.0..HEAD'"), 'shallow_clone_missing_ref'],
  ['git no merge base', step('$ git merge-base origin/main HEAD', 'fatal: no merge base found'), 'shallow_clone_missing_ref'],
  ['autoscaler out of capacity', ['Preparing the "docker-autoscaler" executor', 'ERROR: Failed to prepare environment: no free machines that can process builds', 'ERROR: Job failed (system failure): no free machines that can process builds'].join('\n'), 'machine_provisioning_failed'],
  ['job page: waiting for a runner', 'This job has not started yet\nThis job is in pending state and is waiting to be picked by a runner', 'no_matching_runner'],
  ['failure reason: stuck or timeout (GitLab dropped a pending or silent job)', 'There has been a timeout failure or the job got stuck. Check your timeout limits or try again', 'job_stuck_pending_timeout'],
  ['buildkit RUN step SIGKILLed', step('$ docker build -t app .', 'ERROR: failed to solve: process "/bin/sh -c npm run build" did not complete successfully: exit code: 137'), 'oom_killed'],
  ['merge request ref gone', clone("fatal: couldn't find remote ref refs/merge-requests/12/head"), 'pipeline_ref_missing'],
  // gitlab-runner common/build.go: the bare preparation failure of a login shell (docs/faq: .bash_logout's clear_console).
  ['shell profile hint only', ['Preparing the "shell" executor', 'Preparing environment', 'ERROR: Job failed (system failure): prepare environment: exit status 1. Check https://docs.gitlab.com/runner/shells/index.html#shell-profile-loading for more information'].join('\n'), 'shell_profile_broken'],
  ['dash, script whose #! shell is missing', step('$ ./scripts/deploy.sh production', 'sh: 1: ./scripts/deploy.sh: not found'), 'shell_mismatch'],
]

// Failures outside the taxonomy: no specific guess, only the kind of failure (low confidence) and the relevant lines.
const unknown: [string, string, string][] = [
  ['test asserting a 500', step('$ npm test', '  1) GET /orders: AssertionError: expected status 500 to equal 200'), 'user_script_failure'],
  ['git push 413', step('$ git push origin HEAD:main', 'error: RPC failed; HTTP 413 curl 22 The requested URL returned error: 413'), 'user_script_failure'],
]

describe('rules match meaning across tools and versions', () => {
  it.each(cases)('%s', (_tool, log, category, executor) => {
    const r = diagnose({ trace: parseTrace(log), ...(executor ? { executor } : {}) })
    expect(r.diagnoses[0]?.category).toBe(category)
  })

  it.each(unknown)('%s: only the kind of failure', (_name, log, kind) => {
    const r = diagnose({ trace: parseTrace(log) })
    expect(r.diagnoses.map((d) => [d.category, d.confidence])).toEqual([[kind, 0.3]])
    expect(r.diagnoses[0]?.fixes.length).toBeGreaterThan(0)
    expect(r.relevant?.length).toBeGreaterThan(0)
  })
})

describe('meaningful alternatives', () => {
  it('the build container gone at attach: attach failure first, an image without a shell second', () => {
    const gone = 'ERROR: Job failed (system failure): unable to upgrade connection: container not found ("build")'
    const r = diagnose({ trace: parseTrace(['Using Kubernetes executor with image registry.example.com/tools/builder:1 ...', gone].join('\n')), executor: 'kubernetes' })
    expect(r.diagnoses.slice(0, 2).map((d) => d.category)).toEqual(['kubernetes_attach_failed', 'image_missing_shell'])
    expect(r.diagnoses[0]?.title).toContain('the build container')
    // A distroless image in the banner makes the missing shell the better first answer.
    const d = diagnose({ trace: parseTrace(['Using Kubernetes executor with image gcr.io/distroless/static:nonroot ...', gone].join('\n')), executor: 'kubernetes' })
    expect(d.diagnoses[0]?.category).toBe('image_missing_shell')
  })
})
