import pg from 'pg';

/** Every identifier and literal that reaches SQL goes through these. */
export const ident = (name: string): string => pg.escapeIdentifier(name);
export const lit = (value: string): string => pg.escapeLiteral(value);
export const qname = (schema: string, name: string): string => `${ident(schema)}.${ident(name)}`;
/** A schema-qualified name as a regclass literal, e.g. for to_regclass() */
export const regclassLit = (schema: string, name: string): string => lit(qname(schema, name));
