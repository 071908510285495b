package dev.campaignnotifier.startup;

/**
 * A reason the service cannot start, worded for the operator: what is wrong and which option fixes
 * it. It carries no stack trace because the message is the whole story.
 */
public final class StartupException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public StartupException(String message) {
    super(message, null, false, false);
  }
}
