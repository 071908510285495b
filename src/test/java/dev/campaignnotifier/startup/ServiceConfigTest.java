package dev.campaignnotifier.startup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.campaignnotifier.options.CampaignNotifierOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.joda.time.Duration;
import org.junit.jupiter.api.Test;

class ServiceConfigTest {
  private static ServiceConfig resolve(String... args) {
    return ServiceConfig.resolve(
        PipelineOptionsFactory.fromArgs(args).as(CampaignNotifierOptions.class));
  }

  @Test
  void durationsAreParsedOnce() {
    ServiceConfig config =
        resolve("--subscribersRefresh=90s", "--replayWindow=PT3H", "--deliveryStuckAfter=1m");
    assertEquals(Duration.standardSeconds(90), config.subscribersRefresh());
    assertEquals(Duration.standardHours(3), config.replayWindow());
    assertEquals(Duration.standardMinutes(1), config.deliveryStuckAfter());
  }

  @Test
  void theSliceSizeHasANewNameAndKeepsTheOldOneForARelease() {
    assertEquals(2_000, resolve().deliverySliceSize());
    assertEquals(500, resolve("--deliverySliceSize=500").deliverySliceSize());
    assertEquals(300, resolve("--jdbcBatchSize=300").deliverySliceSize());
    assertEquals(
        300, resolve("--jdbcBatchSize=300", "--deliverySliceSize=500").deliverySliceSize());
  }

  @Test
  void aBadValueNamesItsOption() {
    StartupException e =
        assertThrows(StartupException.class, () -> resolve("--replayWindow=forever"));
    assertTrue(e.getMessage().contains("--replayWindow=forever"), e.getMessage());
  }

  @Test
  void theClientsCarryOnlyWhereTheSecretsAre() {
    ServiceConfig config =
        resolve("--jdbcUrl=jdbc:postgresql://db:5432/de", "--jdbcPasswordEnv=SOME_VARIABLE");
    assertEquals("jdbc:postgresql://db:5432/de", config.postgres().url());
    assertEquals("SOME_VARIABLE", config.postgres().passwordEnv());
  }

  @Test
  void theSparkRunnerTakesTurnsOnATimerInLookupModeOnlyAndNotifiesLateSubscribers() {
    ServiceConfig direct = resolve("--fanOutSlicesPerTurn=4");
    assertEquals(4, direct.fanOutSlicesPerTurn());
    assertFalse(direct.runner().turnsOnTimer());
    assertTrue(direct.notifyLateSubscribers());
    ServiceConfig sparkSnapshot =
        resolve("--runner=SparkRunner", "--subscribers=snapshot", "--fanOutSlicesPerTurn=4");
    assertEquals(0, sparkSnapshot.fanOutSlicesPerTurn());
    assertEquals(0, sparkSnapshot.fanOutSlicesPerTurn(), "in one go: no turns to time");
    ServiceConfig spark = resolve("--runner=SparkRunner", "--fanOutSlicesPerTurn=4");
    assertEquals(4, spark.fanOutSlicesPerTurn());
    assertTrue(spark.runner().turnsOnTimer());
    assertTrue(spark.notifyLateSubscribers());
  }
}
