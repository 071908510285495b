package dev.campaignnotifier;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class CampaignNotifierTest {
  @Test
  void theDirectRunnerHandsBackAtOnceAndGetsItsThreadsUnlessToldOtherwise() {
    assertEquals(
        List.of("--runner=DirectRunner", "--blockOnRun=false", "--targetParallelism=16"),
        List.of(CampaignNotifier.handBackOnDirect(new String[] {"--runner=DirectRunner"})));
    assertEquals(
        List.of("--runner=DirectRunner", "--targetParallelism=4", "--blockOnRun=true"),
        List.of(
            CampaignNotifier.handBackOnDirect(
                new String[] {
                  "--runner=DirectRunner", "--targetParallelism=4", "--blockOnRun=true"
                })));
  }
}
