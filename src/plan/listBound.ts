/**
 * The text PostgreSQL prints (pg_get_expr of relpartbound) for a one-value LIST partition. Used to find the
 * partition of a key by its bound, never by its name (docs/behaviours/list-bound-text.md,
 * docs/behaviours/like-underscore-matches-any-character.md). ruleutils prints int4 and numeric constants bare unless
 * negative, every other type as a quoted literal without a cast.
 */
export function expectedListBound(keyType: string, keyText: string): string {
  const bare =
    (keyType === 'integer' && /^[0-9]+$/.test(keyText)) ||
    (keyType.startsWith('numeric') && /^[0-9]+(\.[0-9]+)?$/.test(keyText));
  return `FOR VALUES IN (${bare ? keyText : `'${keyText.replace(/'/g, "''")}'`})`;
}

export const SUPPORTED_KEY_TYPES = ['uuid', 'text', 'character varying', 'integer', 'bigint', 'smallint'];

export function isSupportedKeyType(type: string): boolean {
  return SUPPORTED_KEY_TYPES.some((t) => type === t || type.startsWith(`${t}(`));
}
