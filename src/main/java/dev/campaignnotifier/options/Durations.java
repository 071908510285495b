package dev.campaignnotifier.options;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.joda.time.Duration;

/**
 * Parses the human durations options take: {@code 500ms}, {@code 30s}, {@code 5m}, {@code PT30S}.
 */
public final class Durations {
  private static final Pattern SIMPLE = Pattern.compile("(\\d+)\\s*(ms|s|m|h)");

  private Durations() {}

  /**
   * @throws IllegalArgumentException naming the option and the accepted forms
   */
  public static Duration parse(String option, String text) {
    String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
    Matcher m = SIMPLE.matcher(t);
    Duration d = null;
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      d =
          switch (m.group(2)) {
            case "ms" -> Duration.millis(n);
            case "s" -> Duration.standardSeconds(n);
            case "m" -> Duration.standardMinutes(n);
            default -> Duration.standardHours(n);
          };
    } else if (t.startsWith("pt")) {
      try {
        // java.time reads every ISO-8601 duration (PT24H, PT2M, PT0.5S); Joda's parse only PTnS.
        d = Duration.millis(java.time.Duration.parse(t.toUpperCase(Locale.ROOT)).toMillis());
      } catch (java.time.format.DateTimeParseException | ArithmeticException e) {
        d = null;
      }
    }
    if (d == null || d.getMillis() <= 0) {
      throw new IllegalArgumentException(
          "--"
              + option
              + "="
              + text
              + " is not a positive duration such as 500ms, 30s, 5m, 24h or PT30S");
    }
    return d;
  }
}
