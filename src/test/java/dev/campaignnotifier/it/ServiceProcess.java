package dev.campaignnotifier.it;

import dev.campaignnotifier.local.Ports;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The service in a JVM of its own, started as a user would start it, so that a test can kill it
 * with SIGKILL or stop it with SIGTERM. Its output goes to a file the test can read.
 */
final class ServiceProcess implements AutoCloseable {
  private final Process process;
  private final Path log;

  /** The service's /metrics and /health port; 0 when it serves none. */
  private int port;

  private ServiceProcess(Process process, Path log) {
    this.process = process;
    this.log = log;
  }

  /**
   * The service on the DirectRunner with {@code args}; a {@code --metricsPort=0} among them (as
   * {@link ServiceClient#serviceArgs} gives) becomes a free port, for {@link #health}.
   */
  static ServiceProcess start(List<String> args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(java());
    command.add("-Xmx2g");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add("dev.campaignnotifier.CampaignNotifier");
    command.add("--runner=DirectRunner");
    command.addAll(args);
    return serve(command, "service");
  }

  /**
   * The service started by {@code command} (any runner); a {@code --metricsPort=0} in it becomes a
   * free port, for {@link #health}.
   */
  static ServiceProcess serve(List<String> command, String name) throws IOException {
    int port = Ports.free();
    boolean served = false;
    List<String> resolved = new ArrayList<>();
    for (String arg : command) {
      if (arg.equals("--metricsPort=0")) {
        arg = "--metricsPort=" + port;
        served = true;
      }
      resolved.add(arg);
    }
    ServiceProcess service = exec(resolved, Map.of(), name);
    service.port = served ? port : 0;
    return service;
  }

  /**
   * What {@code /health/ready} answers now: {@code ready} once the pipeline runs with both servers
   * reachable and, in {@code snapshot} mode, a subscriber snapshot loaded; otherwise what the
   * service is doing instead (a standby says so). Empty while nothing answers.
   */
  String health() {
    if (port == 0) {
      throw new IllegalStateException("started without a metrics port");
    }
    return ClusterKit.httpGet("http://localhost:" + port + "/health/ready");
  }

  /** Whether {@link #health} says {@code ready}. */
  boolean ready() {
    return health().equals("ready\n");
  }

  /** Any command (a cluster's daemon, a submit client) with extra environment variables. */
  static ServiceProcess exec(List<String> command, Map<String, String> env, String name)
      throws IOException {
    return exec(command, env, name, false);
  }

  /** As {@link #exec(List, Map, String)}; {@code onlyEnv}: with no variable but {@code env}. */
  static ServiceProcess exec(
      List<String> command, Map<String, String> env, String name, boolean onlyEnv)
      throws IOException {
    Path log = Files.createTempFile(name, ".log");
    ProcessBuilder builder =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    if (onlyEnv) {
      builder.environment().clear();
    }
    builder.environment().putAll(env);
    return new ServiceProcess(builder.start(), log);
  }

  /** The java launcher of the JDK running the tests. */
  static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  String log() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      throw new AssertionError("cannot read " + log, e);
    }
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** For an await: fails at once, with the process's output, if it has exited. */
  boolean alive(String name) {
    if (!process.isAlive()) {
      throw new AssertionError(name + " exited with " + process.exitValue() + ":\n" + log());
    }
    return true;
  }

  /** SIGKILL, to the process and what it started: no shutdown hook, no flush, no goodbye. */
  void kill() throws InterruptedException {
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /** SIGTERM, as Ctrl-C or an orchestrator would send, and wait for the exit. */
  int stop() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      throw new AssertionError("the service did not stop within 60 s of SIGTERM");
    }
    return process.exitValue();
  }

  /** The exit status of a process that has exited. */
  int exitCode() {
    return process.exitValue();
  }

  File logFile() {
    return log.toFile();
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      kill();
    }
  }
}
