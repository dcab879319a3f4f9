interface FieldErrorProps {
  /** Id that the input in error names in aria-describedby. */
  id: string;
  /** The sentence to show, or undefined when the input has no error. */
  message: string | undefined;
}

/** Shows the error of one form input under it, and announces it to screen readers. */
export function FieldError({ id, message }: FieldErrorProps) {
  if (message === undefined) {
    return null;
  }
  return (
    <p id={id} role="alert" className="field-error">
      {message}
    </p>
  );
}
