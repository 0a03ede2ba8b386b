// Types of the validator module that scripts/build-schema-validator.mjs generates at build time.
import type { SchemaError } from './schema-validator.js'

declare const validate: ((data: unknown) => boolean) & { errors?: SchemaError[] | null }
export default validate
