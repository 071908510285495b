package dev.campaignnotifier.it;

import dev.campaignnotifier.options.CampaignNotifierOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What a restaurant or a client takes back stays taken back ({@link RunnerContract#takenBack}),
 * with the service on the DirectRunner in a JVM of its own, in its default subscriber mode,
 * snapshot (lookup in a JVM of its own: the Spark launcher's, {@code SparkLauncherIT}; both modes
 * in the test's JVM: the Flink contract classes).
 */
class TakenBackIT {
  @ParameterizedTest(name = "--subscribers={0}")
  @ValueSource(strings = {"snapshot"})
  void onTheDirectRunnerInItsOwnJvm(String mode) throws Exception {
    CampaignNotifierOptions o = ServiceClient.options(true);
    ServiceClient client = new ServiceClient(o);
    List<String> args = new ArrayList<>(ServiceClient.serviceArgs(o, o.getJdbcUrl()));
    args.add("--subscribers=" + mode);
    try (ServiceProcess service = ServiceProcess.start(args)) {
      Await.until("ready", Duration.ofMinutes(2), service::ready);
      RunnerContract.takenBack(client, true);
    }
  }
}
