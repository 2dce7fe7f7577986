/** A helper in another module of the user's code. */
export function shout(text: string): string {
  return text.toUpperCase();
}
