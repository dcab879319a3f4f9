import { passwordStrength, strengthHint } from "../passwords.ts";

interface PasswordStrengthHintProps {
  /** Id that the password field names in aria-describedby. */
  id: string;
  password: string;
}

/** Shows, under a new password field, how strong the password typed so far looks. */
export function PasswordStrengthHint({ id, password }: PasswordStrengthHintProps) {
  return (
    <p id={id} className="hint password-strength" data-strength={passwordStrength(password)}>
      {strengthHint(password)}
    </p>
  );
}
