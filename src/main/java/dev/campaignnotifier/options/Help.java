package dev.campaignnotifier.options;

import dev.campaignnotifier.runner.RunnerProfile;
import java.beans.Introspector;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;

/**
 * What {@code --help} prints: the service's own options, group by group, each with its default as a
 * user would write it, then how to list a runner's. (Beam's own {@code --help} lists the option
 * interfaces it knows, with a Dataflow example; {@code --help=<interface>} still reaches it.)
 */
public final class Help {
  /** The service's option groups, in the order the help shows them. */
  static final List<Class<?>> GROUPS =
      List.of(
          KafkaOptions.class,
          DeadLetterOptions.class,
          JdbcOptions.class,
          DeliveryOptions.class,
          SubscriberOptions.class,
          OperationsOptions.class);

  private static final int WIDTH = 100;

  private Help() {}

  /** Whether the command line asks for this help: {@code --help} alone, as {@code -h} is not. */
  public static boolean asked(String[] args) {
    return Arrays.asList(args).contains("--help");
  }

  /** The text of the help. */
  public static String text() {
    StringBuilder out = new StringBuilder();
    out.append(
        "campaign-notifier: each restaurant's campaign, while it is active, to every client who has"
            + " the restaurant in favourites: a message on Kafka and a row in PostgreSQL.\n\n"
            + "Usage: campaign-notifier [--name=value ...]   (no servers given: an embedded"
            + " Kafka and PostgreSQL with sample data)\n");
    for (Class<?> group : GROUPS) {
      out.append('\n').append(title(group)).append('\n');
      for (Method getter : getters(group)) {
        String name = Introspector.decapitalize(getter.getName().substring(3));
        if (getter.isAnnotationPresent(Deprecated.class)) {
          continue;
        }
        out.append("  --").append(name).append('=').append(placeholder(getter));
        out.append("   (default: ").append(defaultOf(getter)).append(")\n");
        Description description = getter.getAnnotation(Description.class);
        if (description != null) {
          wrap(out, description.value(), "      ");
        }
      }
    }
    out.append(
        "\nThe runner is chosen with --runner=DirectRunner (the default), SparkRunner or"
            + " FlinkRunner; runners/*.sh start each with its settings. A runner's own options:"
            + " --help=DirectOptions, --help=SparkPipelineOptions or --help=FlinkPipelineOptions"
            + " (the runner's bundle on the classpath); every option interface Beam knows:"
            + " --help=PipelineOptions.\n");
    return out.toString();
  }

  /** The group's getters, by name. */
  private static List<Method> getters(Class<?> group) {
    List<Method> getters = new ArrayList<>();
    for (Method m : group.getDeclaredMethods()) {
      if (m.getName().startsWith("get") && m.getParameterCount() == 0) {
        getters.add(m);
      }
    }
    getters.sort(Comparator.comparing(Method::getName));
    return getters;
  }

  private static String title(Class<?> group) {
    return switch (group.getSimpleName()) {
      case "KafkaOptions" -> "Kafka: where campaigns come from and notifications go";
      case "DeadLetterOptions" -> "Bad input";
      case "JdbcOptions" -> "PostgreSQL";
      case "DeliveryOptions" -> "Delivery";
      case "SubscriberOptions" -> "Subscribers";
      case "OperationsOptions" -> "Operations";
      default -> group.getSimpleName();
    };
  }

  private static String placeholder(Method getter) {
    Class<?> type = getter.getReturnType();
    if (type.isEnum()) {
      return String.join(
          "|", Arrays.stream(type.getEnumConstants()).map(Object::toString).toList());
    }
    if (type == boolean.class || type == Boolean.class) {
      return "true|false";
    }
    if (type == int.class || type == Integer.class || type == long.class || type == Long.class) {
      return "<number>";
    }
    return "<text>";
  }

  /** The default as a user would write it on the command line. */
  static String defaultOf(Method getter) {
    if (getter.isAnnotationPresent(Default.String.class)) {
      String value = getter.getAnnotation(Default.String.class).value();
      return value.isEmpty() ? "empty" : value;
    }
    if (getter.isAnnotationPresent(Default.Integer.class)) {
      return String.valueOf(getter.getAnnotation(Default.Integer.class).value());
    }
    if (getter.isAnnotationPresent(Default.Long.class)) {
      return String.valueOf(getter.getAnnotation(Default.Long.class).value());
    }
    if (getter.isAnnotationPresent(Default.Boolean.class)) {
      return String.valueOf(getter.getAnnotation(Default.Boolean.class).value());
    }
    if (getter.isAnnotationPresent(Default.Enum.class)) {
      return getter.getAnnotation(Default.Enum.class).value();
    }
    if (getter.isAnnotationPresent(Default.InstanceFactory.class)) {
      // Chosen by the runner's profile: its values per runner, as the profile has them.
      List<String> each = new ArrayList<>();
      for (RunnerProfile profile : RunnerProfile.KNOWN) {
        each.add(profile.defaultOf(getter.getName()) + " on " + profile.runnerName());
      }
      return String.join(", ", each);
    }
    return "none";
  }

  private static void wrap(StringBuilder out, String text, String indent) {
    StringBuilder line = new StringBuilder(indent);
    for (String word : text.split(" ")) {
      if (line.length() + word.length() + 1 > WIDTH && line.length() > indent.length()) {
        out.append(line).append('\n');
        line = new StringBuilder(indent);
      }
      if (line.length() > indent.length()) {
        line.append(' ');
      }
      line.append(word);
    }
    out.append(line).append('\n');
  }
}
