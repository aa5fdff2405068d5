/** Text from inside a container, made safe to print: no escape sequences reach the user's terminal. */

/**
 * Control characters (C0 but tab and newline, DEL, C1) become visible escapes, so that nothing a
 * container says can move the cursor, retitle the window or hide what follows.
 */
export function forTerminal(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
