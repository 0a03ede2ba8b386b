import { describe, expect, it } from 'vitest'
import { expectLinear, sized } from '../../test/support/linear-time.js'
import { all, cats, inImage, step, top, withServices } from '../../test/support/diagnose-log.js'
import { diagnose } from './engine.js'
import { parseTrace } from './trace.js'

// Review rv10 of the twenty-second rule pass (a70779e) and the service-credentials reread (1bc987e).
// Each finding (16, mended in the commit after "Merge branch 'helper-rv10'") states the behaviour expected;
// the "guard:" cases must keep passing.

const withCi = (log: string, ciYaml: string) => diagnose({ trace: parseTrace(log), ciYaml }).diagnoses

describe('ci-hypotheses.ts missingArtifact: a "No such file" line against artifacts:paths', () => {
  it('finding 1: a listed path only as a substring of another name ("out" in checkout.sh) is no artifact', () => {
    const d = withCi(inImage('alpine:3.19', '$ ./scripts/checkout.sh', '/bin/sh: ./scripts/checkout.sh: No such file or directory'),
      'build:\n  script:\n    - make\n  artifacts:\n    paths:\n      - out\n')
    expect(d.map((x) => x.category)).not.toContain('artifacts_no_matching_files')
  })
  it('finding 2: the job that lists the path is the one failing to write it (cp into a missing dist/)', () => {
    const d = withCi(inImage('gcc:13', '$ make', '$ cp build/app.bin dist/app.bin', "cp: cannot create regular file 'dist/app.bin': No such file or directory"),
      'build:\n  image: gcc:13\n  script:\n    - make\n    - cp build/app.bin dist/app.bin\n  artifacts:\n    paths:\n      - dist/\n')
    expect(d[0]?.category).not.toBe('artifacts_no_matching_files')
  })
  it('finding 3: a path written "./plan.tfplan" in the YAML is the same file as "plan.tfplan" in the log', () => {
    const d = withCi(step('$ terraform apply -input=false plan.tfplan', 'stat plan.tfplan: no such file or directory'),
      'plan:\n  script:\n    - terraform plan -out=plan.tfplan\n  artifacts:\n    paths:\n      - ./plan.tfplan\napply:\n  script:\n    - terraform apply -input=false plan.tfplan\n')
    expect(d[0]?.category).toBe('artifacts_no_matching_files')
  })
  it('finding 4: Java\'s NoSuchFileException names the missing artifact too', () => {
    const d = withCi(inImage('eclipse-temurin:21', '$ java -jar tools/sign.jar build/libs/app.jar', 'Exception in thread "main" java.nio.file.NoSuchFileException: build/libs/app.jar'),
      'build:\n  script:\n    - ./gradlew assemble\n  artifacts:\n    paths:\n      - build/libs/app.jar\nsign:\n  script:\n    - java -jar tools/sign.jar build/libs/app.jar\n')
    expect(d[0]?.category).toBe('artifacts_no_matching_files')
  })
  it('finding 5: the needs: snippet names the YAML\'s producing job, not a hard-coded "plan"', () => {
    const d = withCi(inImage('node:20', '$ ls dist/app.js', "ls: cannot access 'dist/app.js': No such file or directory"),
      'build:\n  script:\n    - npm run build\n  artifacts:\n    paths:\n      - dist/app.js\ntest:\n  script:\n    - ls dist/app.js\n')[0]
    expect(d?.category).toBe('artifacts_no_matching_files')
    expect(all(d)).not.toContain('needs: [plan]')
  })
  it('guard: the batch\'s own case (terraform plan file) still answers', () => {
    const d = withCi(step('$ terraform apply -input=false -auto-approve "plan.tfplan"', 'stat plan.tfplan: no such file or directory'),
      'plan:\n  script:\n    - terraform plan -out=plan.tfplan\n  artifacts:\n    paths:\n      - plan.tfplan\napply:\n  script:\n    - terraform apply plan.tfplan\n')[0]
    expect(d?.category).toBe('artifacts_no_matching_files')
  })
  it('guard: a COPY in docker build stays the build context\'s answer', () => {
    const d = withCi(inImage('docker:24', '$ docker build -t app .', 'COPY failed: file not found in build context or excluded by .dockerignore: stat dist/app.js: file does not exist'),
      'build:\n  script:\n    - npm run build\n  artifacts:\n    paths:\n      - dist/app.js\n')
    expect(d[0]?.category).toBe('docker_build_context_missing_file')
  })
})

describe('ci-hypotheses.ts swarmOnDind: "This node is not a swarm manager"', () => {
  const NO_SWARM = 'Error response from daemon: This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.'
  it('finding 6: a dind service of ANOTHER job in the YAML; this job (no "Starting service") used the host socket', () => {
    const d = withCi(inImage('docker:24', '$ docker stack deploy -c docker-compose.yml app', NO_SWARM),
      'build:\n  image: docker:24\n  services:\n    - docker:24-dind\n  script:\n    - docker build .\ndeploy:\n  image: docker:24\n  tags: [swarm-manager]\n  script:\n    - docker stack deploy -c docker-compose.yml app\n')
    expect(d.map((x) => x.category)).not.toContain('dind_docker_host_wrong')
  })
  it('finding 7: "Worker nodes can\'t be used…" is a swarm WORKER (never a fresh dind daemon)', () => {
    const log = withServices(['docker:24-dind'], '$ docker -H ssh://deploy@node2.example.com stack deploy -c docker-compose.yml app',
      "Error response from daemon: This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state. Please run this command on a manager node or promote the current node to a manager.")
    expect(cats(log)).not.toContain('dind_docker_host_wrong')
  })
  it('finding 8: the cause names DOCKER_HOST as two real URLs, not "tcp://docker:2375/2376"', () => {
    const d = top(withServices(['docker:24-dind'], '$ docker stack deploy -c docker-compose.yml app', NO_SWARM))
    expect(d?.category).toBe('dind_docker_host_wrong')
    expect(all(d)).not.toContain('2375/2376')
  })
  it('guard: the dind case itself (no swarm) answers', () => {
    expect(top(withServices(['docker:24-dind'], '$ docker stack deploy -c docker-compose.yml app', NO_SWARM))?.category).toBe('dind_docker_host_wrong')
  })
})

describe('ci-hypotheses.ts customEntrypoint and image.ts mismatch() under an entrypoint override', () => {
  const kubectlOverride = 'deploy:\n  image:\n    name: bitnami/kubectl:1.18\n    entrypoint: [ "/bin/sh", "-c" ]\n  script:\n    - kubectl apply -f k8s/\n'
  it('finding 9: busybox ash\'s wording of the same refusal is read too (mismatch() is lowered, nobody answers the override)', () => {
    const d = withCi('/bin/sh: set: line 1: illegal option -o pipefail', kubectlOverride)
    expect(d[0]?.category).toBe('image_entrypoint_override')
  })
  it('finding 10: the override belongs to another job\'s image than the one the log names', () => {
    const d = withCi(inImage('python:3.12', 'sh: 3: set: Illegal option -o pipefail'),
      'lint:\n  image: python:3.12\n  script:\n    - flake8\n' + kubectlOverride)
    expect(d[0]?.category).toBe('shell_mismatch')
    expect(d[0]?.confidence).toBeGreaterThanOrEqual(0.8)
  })
  it('guard: the batch\'s case (override, dash refusing pipefail, no script line) answers the override', () => {
    const d = withCi('sh: 3: set: Illegal option -o pipefail', kubectlOverride)
    expect(d[0]?.category).toBe('image_entrypoint_override')
    expect(d.map((x) => x.category)).toContain('shell_mismatch')
  })
  it('guard: entrypoint [""] is no override', () => {
    expect(withCi('sh: 3: set: Illegal option -o pipefail', 'deploy:\n  image:\n    name: bitnami/kubectl:1.18\n    entrypoint: [""]\n  script:\n    - ls\n')[0]?.category).toBe('shell_mismatch')
  })
})

describe('image.ts: NO_SHELL, missingShell\'s YAML entrypoint, USAGE', () => {
  const runc = (shell: string) => `ERROR: Job failed (system failure): Error response from daemon: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "${shell}": stat ${shell}: no such file or directory: unknown`
  it('finding 11: kaniko\'s /busybox/sh named by the YAML entrypoint on the non-debug image is a missing shell, not a broken engine', () => {
    const d = withCi(runc('/busybox/sh'), 'build:\n  image:\n    name: gcr.io/kaniko-project/executor:v1.23.2\n    entrypoint: ["/busybox/sh", "-c"]\n  script:\n    - /kaniko/executor --destination $CI_REGISTRY_IMAGE\n')[0]
    expect(d?.category).toBe('image_missing_shell')
    expect(d?.title).toContain('entrypoint')
  })
  it('guard: /bin/ash named by the YAML entrypoint (the batch\'s case)', () => {
    const d = withCi(runc('/bin/ash'), 'codesniffer:\n  image:\n    name: cytopia/phpcs:3\n    entrypoint: [ "/bin/ash", "-c" ]\n  script:\n    - phpcs\n')[0]
    expect(d?.category).toBe('image_missing_shell')
  })
  it('guard: argparse\'s "invalid choice: \'sh\'" from a script command is not an ENTRYPOINT', () => {
    expect(cats(inImage('python:3.12', '$ mytool completion sh', "mytool: error: argument shell: invalid choice: 'sh' (choose from 'bash', 'zsh', 'fish')"))).not.toContain('image_entrypoint_override')
  })
  it('guard: an 80 000-character line near the new USAGE alternatives is read in linear time', () => {
    expectLinear((k) => {
      const long = `${"invalid choice: 'x' \"sh\" is not".repeat(sized(2_500, k))}`
      const log = inImage('example/tool:1', long, `'if [ -x /usr/local/bin/bash ]; then ${'x'.repeat(sized(80_000, k))}`)
      return () => top(log)
    })
  })
})

describe('kubernetes.ts scriptKubeconfig: a script\'s tool without a kubeconfig', () => {
  it('finding 12: helm\'s "Kubernetes cluster unreachable: Get http://localhost:8080/version" is no sibling container', () => {
    const d = top(inImage('alpine/helm:3.14.0', '$ helm upgrade --install app ./chart', 'Error: Kubernetes cluster unreachable: Get "http://localhost:8080/version": dial tcp 127.0.0.1:8080: connect: connection refused'))
    expect(d?.category).toBe('script_kubeconfig_missing')
  })
  it('finding 13: client-go\'s in-cluster fallback (rest.ErrNotInCluster) from a script\'s tool', () => {
    const d = top(step('$ kubectl-argo-rollouts promote app', 'Error: unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined'))
    expect(d?.category).toBe('script_kubeconfig_missing')
  })
  it('finding 14: the title does not say kubectl when the client was another tool', () => {
    const d = top(step('$ chart-verifier verify ./chart', 'Error: invalid configuration: no configuration has been provided, try setting KUBERNETES_MASTER environment variable'))
    expect(d?.category).toBe('script_kubeconfig_missing')
    expect(d?.title).not.toMatch(/^kubectl/)
  })
  it('guard: kubectl\'s own localhost:8080 fallback', () => {
    expect(top(step('$ kubectl get pods', 'The connection to the server localhost:8080 was refused - did you specify the right host or port?'))?.category).toBe('script_kubeconfig_missing')
  })
  it('guard: the runner\'s own words stay kubernetes_config_missing', () => {
    expect(top('ERROR: Job failed (system failure): prepare environment: getting Kubernetes config: invalid configuration: no configuration has been provided, try setting KUBERNETES_MASTER environment variable')?.category).toBe('kubernetes_config_missing')
  })
})

describe('host.ts SHALLOW: libgit2 missing an object', () => {
  it('finding 15: libgit2 through git2-rs (git-cliff) in the shallow checkout, not only LibGit2Sharp', () => {
    const d = top(step('$ git-cliff --latest -o CHANGELOG.md', 'ERROR git_cliff > Git error: `object not found - no match for id (ff1a6a984a775d514190534b8ffe0e9f0dbf1641); class=Odb (9); code=NotFound (-3)`'))
    expect(d?.category).toBe('shallow_clone_missing_ref')
  })
  it('guard: cargo updating a force-pushed git dependency is not the project\'s shallow clone', () => {
    expect(cats(step('$ cargo build --release', 'error: failed to load source for dependency `confy`', '', 'Caused by:', '  Unable to update https://github.com/open-trade/confy#27fa1294', '', 'Caused by:', '  object not found - no match for id (27fa12941291b44ccd856aef4a5452c1eb646047); class=Odb (9); code=NotFound (-3)'))).not.toContain('shallow_clone_missing_ref')
  })
})

describe('service-credentials.ts: services through ciFacts (1bc987e)', () => {
  it('finding 16: a postgres service of ANOTHER job; this job started none and reached a remote server', () => {
    const d = withCi(inImage('postgres:16', '$ psql "$DATABASE_URL" -c "select 1"', 'psql: error: connection to server at "db.example.com" (203.0.113.5), port 5432 failed: FATAL:  password authentication failed for user "app"'),
      'test:\n  image: python:3.12\n  services:\n    - postgres:16\n  script:\n    - pytest\ndeploy:\n  image: postgres:16\n  script:\n    - psql "$DATABASE_URL" -c "select 1"\n')
    expect(d.map((x) => x.category)).not.toContain('service_credentials_mismatch')
  })
  it('guard: the service the log itself started', () => {
    expect(top(withServices(['postgres:16'], '$ pytest', 'E   psycopg.OperationalError: connection failed: FATAL:  password authentication failed for user "app"'))?.category).toBe('service_credentials_mismatch')
  })
})
