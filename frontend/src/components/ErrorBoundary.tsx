import { Component, type ReactNode } from "react";

interface ErrorBoundaryProps {
  /** Returns the content shown in place of the children once rendering them threw error. */
  fallback: (error: unknown) => ReactNode;
  children: ReactNode;
}

interface ErrorBoundaryState {
  /** The error that a child threw while rendering, once one did. */
  failure: { error: unknown } | null;
}

/**
 * Renders its children, or the fallback once one of them throws while
 * rendering, as a lazy component does when its chunk fails to load.
 */
export class ErrorBoundary extends Component<ErrorBoundaryProps, ErrorBoundaryState> {
  override state: ErrorBoundaryState = { failure: null };

  static getDerivedStateFromError(error: unknown): ErrorBoundaryState {
    return { failure: { error } };
  }

  override render() {
    return this.state.failure === null ? this.props.children : this.props.fallback(this.state.failure.error);
  }
}
