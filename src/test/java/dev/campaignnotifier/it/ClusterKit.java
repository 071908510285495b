package dev.campaignnotifier.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.campaignnotifier.Samples;
import dev.campaignnotifier.model.DeadLetterReason;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * What the cluster tests build with Maven, the way a user would: a runner's bundle ({@code mvn
 * -P<profile> package}, in a copy of the project so the build under test is left alone) and an
 * engine's jars from Maven Central ({@code src/test/cluster/<engine>/pom.xml}). Each is built once
 * per test JVM.
 */
final class ClusterKit {
  static final Path PROJECT = Path.of("").toAbsolutePath();
  private static final Path WORK = PROJECT.resolve("target/it-cluster");
  private static final Map<String, Path> BUILT = new HashMap<>();

  /**
   * The JVM flags Spark and Flink need on Java 17: .mvn/jvm.config, the one copy of the list (the
   * launchers and the test JVM read the same file).
   */
  static final List<String> JAVA_OPENS = javaOpens();

  private ClusterKit() {}

  private static List<String> javaOpens() {
    try {
      return List.of(Files.readString(PROJECT.resolve(".mvn/jvm.config")).trim().split("\\s+"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Builds the bundle of a runner profile ("spark-runner") and returns its jar. */
  static synchronized Path bundle(String profile) {
    return BUILT.computeIfAbsent(
        profile,
        p -> {
          Path copy = WORK.resolve("bundle-" + p);
          deleteTree(copy);
          copyTree(PROJECT.resolve("pom.xml"), copy.resolve("pom.xml"));
          copyTree(PROJECT.resolve(".mvn"), copy.resolve(".mvn"));
          copyTree(PROJECT.resolve("src/main"), copy.resolve("src/main"));
          maven(copy, "-P" + p, "-DskipTests", "-Dspotless.check.skip=true", "package");
          String classifier = p.replace("-runner", "");
          try (Stream<Path> jars = Files.list(copy.resolve("target"))) {
            return jars.filter(j -> j.toString().endsWith("-" + classifier + ".jar"))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no " + classifier + " bundle in " + copy));
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        });
  }

  /**
   * The jars of an engine ("spark", "flink") as its distribution would have them, resolved from
   * Maven Central by {@code src/test/cluster/<engine>/pom.xml}; returns the directory that holds
   * them.
   */
  static synchronized Path engineJars(String engine) {
    return BUILT.computeIfAbsent(
        "engine-" + engine,
        e -> {
          Path jars = WORK.resolve(engine + "-home/jars");
          deleteTree(jars);
          maven(
              PROJECT,
              "-f",
              PROJECT.resolve("src/test/cluster/" + engine + "/pom.xml").toString(),
              "dependency:copy-dependencies",
              "-DoutputDirectory=" + jars);
          return jars;
        });
  }

  /** A JVM for one of an engine's daemons or clients: Java 17 flags, a heap, a class path. */
  static List<String> javaCommand(
      String classpath, String heap, List<String> jvmFlags, String mainClass, List<String> args) {
    List<String> command = new ArrayList<>();
    command.add(ServiceProcess.java());
    command.addAll(JAVA_OPENS);
    command.add("-Xmx" + heap);
    command.addAll(jvmFlags);
    command.add("-cp");
    command.add(classpath);
    command.add(mainClass);
    command.addAll(args);
    return command;
  }

  /** The service in a JVM of its own, on this test JVM's class path (every runner is on it). */
  static List<String> serviceCommand(List<String> args) {
    return javaCommand(
        System.getProperty("java.class.path"),
        "2g",
        List.of(),
        "dev.campaignnotifier.CampaignNotifier",
        args);
  }

  /**
   * The options a local launcher ({@code runners/<script>}) passes to the service, read from the
   * script itself so that a test checks the launcher's settings, with {@code $CHECKPOINT_DIR} set
   * to {@code dir}, each {@code ${VARIABLE:-default}} to its default and each {@code default_option
   * name value} (lib.sh) to {@code --name=value}. What the service adds by itself per runner is its
   * RunnerProfile's.
   */
  static List<String> launcherArgs(String script, Path dir) throws IOException {
    Pattern option = Pattern.compile("(?<![\\w$])--\\w+=[^\\s)]*");
    Pattern byDefault = Pattern.compile("default_option (\\w+) ('[^']*'|\"[^\"]*\"|\\S+)");
    List<String> args = new ArrayList<>();
    for (String line : Files.readString(Path.of("runners", script)).lines().toList()) {
      if (line.strip().startsWith("#")) {
        continue;
      }
      List<String> found = new ArrayList<>();
      option.matcher(line).results().forEach(m -> found.add(m.group()));
      byDefault
          .matcher(line)
          .results()
          .forEach(m -> found.add("--" + m.group(1) + "=" + m.group(2)));
      for (String token : found) {
        if (!token.contains("$(")) {
          args.add(
              token
                  .replaceAll("\\$\\{\\w+:-([^}]*)}", "$1")
                  .replace("\"", "")
                  .replace("'", "")
                  .replace("$CHECKPOINT_DIR", dir.toAbsolutePath().toString()));
        }
      }
    }
    assertTrue(args.stream().anyMatch(a -> a.startsWith("--runner=")), "launcher args: " + args);
    return args;
  }

  /** The body of a GET on a daemon's web endpoint, or "" while it does not answer. */
  static String httpGet(String url) {
    try {
      return HttpClient.newHttpClient()
          .send(
              HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
              HttpResponse.BodyHandlers.ofString())
          .body();
    } catch (IOException e) {
      return "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }

  /**
   * The brief's sample, a message that is not JSON and the sample again, against a service running
   * on a cluster: 9 rows, 9 distinct messages (the repeat notifies nobody twice), 1 dead letter.
   * {@code running} fails the wait at once if the service has died; {@code logs} explains a
   * timeout.
   */
  static void sampleRoundTrip(
      ServiceClient client, BooleanSupplier running, Supplier<String> logs) {
    long now = Instant.now().getEpochSecond();
    String sample =
        Samples.campaignJson(Samples.CAMPAIGN_ID, Samples.RESTAURANT, now - 60, now + 3600);
    client.publish("key", sample);
    client.publish("bad", "{not json");
    client.publish("key", sample);
    Duration wait = Duration.ofMinutes(4);
    Await.until("9 rows", wait, () -> running.getAsBoolean() && client.feedbackRows() >= 9, logs);
    Await.until("9 messages", wait, () -> client.notifications().size() >= 9);
    Await.until("1 dead letter", wait, () -> client.deadLetters().size() >= 1);

    assertEquals(9, client.feedbackRows());
    Map<String, Integer> messages = client.notificationsByKey();
    assertEquals(9, messages.values().stream().mapToInt(Integer::intValue).sum(), "9 messages");
    assertEquals(9, messages.size(), "a repeated campaign notifies once");
    assertTrue(client.deadLetters().get(0).value().contains(DeadLetterReason.NOT_JSON.name()));
  }

  /**
   * After {@link #sampleRoundTrip}: a client who adds the sample's restaurant to favourites while
   * its campaign is active gets one row and one message, and nobody else gets a second one.
   */
  static void lateSubscriberOfTheSample(
      ServiceClient client, BooleanSupplier running, Supplier<String> logs) {
    client.execute(
        "INSERT INTO public.subscribers_restaurants (client_id, restaurant_id) VALUES"
            + " ('cluster-late', '"
            + Samples.RESTAURANT
            + "')");
    Duration wait = Duration.ofMinutes(2);
    Await.until(
        "the late subscriber's row",
        wait,
        () -> running.getAsBoolean() && client.feedbackRows() >= 10,
        logs);
    String key = Samples.CAMPAIGN_ID + ":cluster-late";
    Await.until("its message", wait, () -> client.notificationsByKey().containsKey(key));
    assertEquals(10, client.feedbackRows());
    Map<String, Integer> messages = client.notificationsByKey();
    assertEquals(10, messages.size());
    assertEquals(10, messages.values().stream().mapToInt(Integer::intValue).sum(), "once each");
  }

  private static void maven(Path dir, String... args) {
    String home = System.getProperty("maven.home");
    List<String> command = new ArrayList<>();
    command.add(home == null ? "mvn" : Path.of(home, "bin", "mvn").toString());
    command.add("-B");
    command.add("-q");
    command.add("--settings=" + PROJECT.resolve(".mvn/settings.xml"));
    String repo = System.getProperty("maven.repo.local");
    if (repo != null) {
      command.add("-Dmaven.repo.local=" + repo);
    }
    command.addAll(List.of(args));
    try {
      Files.createDirectories(WORK);
      Path log = Files.createTempFile(WORK, "maven", ".log");
      Process process =
          new ProcessBuilder(command)
              .directory(dir.toFile())
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
      if (!process.waitFor(15, TimeUnit.MINUTES) || process.exitValue() != 0) {
        process.destroyForcibly();
        throw new AssertionError(String.join(" ", command) + " failed:\n" + Files.readString(log));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  static void copyTree(Path from, Path to) {
    try (Stream<Path> paths = Files.walk(from)) {
      for (Path source : (Iterable<Path>) paths::iterator) {
        Path target = to.resolve(from.relativize(source).toString());
        if (Files.isDirectory(source)) {
          Files.createDirectories(target);
        } else {
          Files.createDirectories(target.getParent());
          Files.copy(source, target);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) paths.sorted((a, b) -> b.compareTo(a))::iterator) {
        Files.delete(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
