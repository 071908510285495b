package dev.campaignnotifier.options;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.beans.Introspector;
import java.lang.reflect.Method;
import org.junit.jupiter.api.Test;

/** {@code --help} lists the service's own options, each with a default a user could type. */
class HelpTest {
  @Test
  void everyOptionOfTheServiceIsListedWithItsDefault() {
    String help = Help.text();
    for (Class<?> group : Help.GROUPS) {
      for (Method m : group.getDeclaredMethods()) {
        if (m.getName().startsWith("get") && !m.isAnnotationPresent(Deprecated.class)) {
          String name = Introspector.decapitalize(m.getName().substring(3));
          assertTrue(help.contains("\n  --" + name + "="), name + " in:\n" + help);
        }
      }
    }
    assertTrue(help.contains("--deliverySliceSize=<number>   (default: 2000)"), help);
    assertTrue(
        help.contains("(default: 0 on DirectRunner, 0 on SparkRunner, 4 on FlinkRunner)"), help);
    assertTrue(
        help.contains(
            "--subscribers=snapshot|lookup   (default: snapshot on DirectRunner, lookup on"
                + " SparkRunner, lookup on FlinkRunner)"),
        help);
    assertFalse(help.contains("SlicesPerTurnDefault"), "no class names as defaults");
    assertFalse(help.contains("SubscribersDefault"), help);
    assertTrue(help.contains("--help=SparkPipelineOptions"), "how to list a runner's options");
  }
}
