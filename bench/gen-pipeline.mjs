// Writes a generated .gitlab-ci.yml of `total` jobs (after matrix expansion) that exercises what
// real pipelines lean on: extends chains, rules, needs across stages, parallel:matrix.
export function generatePipeline(total = 2000) {
  const stages = ['build', 'test', 'integration', 'package', 'deploy']
  const out = [`stages: [${stages.join(', ')}]`, '', 'variables:', '  GLOBAL_FLAG: "on"', '']
  out.push('.base:', '  image: busybox:latest', '  variables:', '    BASE: "1"', '  before_script: [echo base]', '  retry: 1', '')
  out.push('.lang:', '  extends: .base', '  variables:', '    LANG_LEVEL: "2"', '  tags: [linux]', '')
  out.push('.tests:', '  extends: .lang', '  rules:', '    - if: $CI_PIPELINE_SOURCE == "schedule"', '      when: never', '    - if: $CI_COMMIT_BRANCH && $GLOBAL_FLAG == "on"', '    - when: manual', '')
  const matrixJobs = 10
  const perMatrix = 10
  const plain = total - matrixJobs * perMatrix
  const perStage = Math.ceil(plain / stages.length)
  let n = 0
  for (let s = 0; s < stages.length; s++) {
    for (let j = 0; j < perStage && n < plain; j++, n++) {
      const name = `${stages[s]}-${j}`
      out.push(`${name}:`, `  extends: .tests`, `  stage: ${stages[s]}`, `  script: ["echo ${name}"]`)
      if (s > 0 && j % 3 === 0) out.push(`  needs: [${stages[s - 1]}-${j}]`)
      out.push('')
    }
  }
  for (let m = 0; m < matrixJobs; m++) {
    out.push(`matrix-${m}:`, '  extends: .lang', '  stage: test', '  script: [echo $PROVIDER $REGION]', '  parallel:', '    matrix:',
      `      - PROVIDER: [aws, gcp]`, `        REGION: [r1, r2, r3, r4, r5]`, '')
  }
  return `${out.join('\n')}\n`
}
