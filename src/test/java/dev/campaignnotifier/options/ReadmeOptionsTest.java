package dev.campaignnotifier.options;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.beans.Introspector;
import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The README's options table lists exactly the service's own options, no more and no fewer. */
class ReadmeOptionsTest {
  @Test
  void readmeTableMirrorsTheOptionsInterfaces() throws IOException {
    Set<String> declared = new TreeSet<>();
    for (Class<?> options : Help.GROUPS) {
      for (Method m : options.getDeclaredMethods()) {
        if (m.getName().startsWith("get")) {
          declared.add(Introspector.decapitalize(m.getName().substring(3)));
        }
      }
    }
    Set<String> documented = new TreeSet<>();
    Matcher row =
        Pattern.compile("^\\| `--(\\w+)` \\|", Pattern.MULTILINE)
            .matcher(Files.readString(Path.of("README.md")));
    while (row.find()) {
      documented.add(row.group(1));
    }
    assertEquals(declared, documented);
  }
}
