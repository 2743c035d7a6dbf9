// Environment variable names derived from a provider's name: discord → DISCORD_CLIENT_ID.

/** The provider name as a variable prefix: upper case, anything but A-Z and 0-9 becomes `_`. */
export function envPrefix(providerName: string): string {
  return providerName.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}
