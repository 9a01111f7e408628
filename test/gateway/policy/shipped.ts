// The profiles shipped in config/profiles, loaded once for the policy tests.
import path from 'node:path';
import { loadProfileFile, shippedProfilesDir, type LoadedProfile } from '../../../gateway/config/profiles.js';

export const PROFILE_NAMES = ['mine-entrance', 'office-area', 'canteen', 'dormitory', 'bathhouse', 'market', 'vehicle-gate'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

export const PROFILES_DIR = shippedProfilesDir();

export const SHIPPED: Readonly<Record<ProfileName, LoadedProfile>> = Object.fromEntries(
  PROFILE_NAMES.map((n) => [n, loadProfileFile(path.join(PROFILES_DIR, `${n}.yaml`))]),
) as Record<ProfileName, LoadedProfile>;
