import { GlrunError } from '../../diagnostics/errors.js'
import type { SourceSpan } from '../../diagnostics/source.js'
import { checkExpression } from '../expressions/index.js'
import { flattenRules } from '../model/job.js'
import { isHidden, isPlainObject, jobKeys } from '../model/keywords.js'
import { keySpan, valueSpan } from '../yaml/positions.js'

/**
 * What GitLab's `Entry::Rules` and `Entry::Rules::Rule` reject and the editor schema lets
 * through: an empty `rules:` list ("can't be blank") and a `rules:if` that is not a valid
 * expression (`ExpressionValidator`: "invalid expression syntax"). Without these checks such a
 * job or workflow rule would quietly never match, where GitLab refuses the whole pipeline.
 * Hidden jobs are templates, not jobs: GitLab does not validate them, so neither does this.
 */
export function validateRules(config: Record<string, unknown>, errors: GlrunError[]): void {
  const workflow = config['workflow']
  if (isPlainObject(workflow)) checkRules('workflow:rules', workflow, errors, keySpan(config, 'workflow'))
  for (const name of jobKeys(config)) {
    const job = config[name]
    if (isHidden(name) || !isPlainObject(job)) continue
    checkRules(`jobs:${name}:rules`, job, errors, keySpan(config, name))
  }
}

function checkRules(path: string, owner: Record<string, unknown>, errors: GlrunError[], fallback: SourceSpan | undefined): void {
  const rules = owner['rules']
  if (rules === undefined || rules === null) return
  const where = valueSpan(owner, 'rules') ?? keySpan(owner, 'rules') ?? fallback
  const list = flattenRules(rules) ?? []
  if (Array.isArray(rules) && list.length === 0) {
    errors.push(new GlrunError('GLRUN_RULES_BLANK', `${path} config can't be blank`, {
      where, hint: 'Give `rules:` at least one rule, or remove the key: GitLab rejects an empty list.',
    }))
    return
  }
  for (const rule of list) {
    // A non-string `if:` is the schema's to report (as a type error); only strings are parsed here.
    if (!isPlainObject(rule) || typeof rule['if'] !== 'string') continue
    const why = checkExpression(rule['if'])
    if (why === undefined) continue
    errors.push(new GlrunError('GLRUN_RULES_IF_SYNTAX', `${path}:rule if invalid expression syntax`, {
      where: valueSpan(rule, 'if') ?? keySpan(rule, 'if') ?? where,
      hint: /\$\{\w+\}/.test(rule['if'])
        ? `Expressions name variables as $NAME, not \${NAME}: write ${rule['if'].replace(braces, '$$$1')}`
        : `${capitalise(why)}. Compare $VARIABLES with "strings", /regexes/ or null (==, !=, =~, !~), joined by && or ||.`,
    }))
  }
}

const braces = /\$\{(\w+)\}/g

function capitalise(s: string): string {
  return s.length > 0 ? s[0]!.toUpperCase() + s.slice(1) : s
}
