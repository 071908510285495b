package dev.campaignnotifier.late;

import static dev.campaignnotifier.model.Golden.CAMPAIGN;
import static dev.campaignnotifier.model.Golden.golden;
import static dev.campaignnotifier.model.Golden.pinned;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What the late step keeps of a restaurant, held to its bytes ({@link
 * dev.campaignnotifier.model.Golden}).
 */
class NotifyLateSubscribersGoldenTest {
  @Test
  void itsCodersKeepTheirSerialVersionUids() {
    pinned(NotifyLateSubscribers.RestaurantCoder.class, 3181873824816022097L);
    pinned(NotifyLateSubscribers.EventCoder.class, -4360303664184719249L);
  }

  @Test
  void whatTheLateStepKeepsOfARestaurant() throws Exception {
    golden(
        NotifyLateSubscribers.RestaurantCoder.of(),
        new NotifyLateSubscribers.Restaurant(
            List.of(CAMPAIGN),
            Map.of("client-1", 1_700_000_001_000L),
            Map.of("c-1", List.of("client-1")),
            Map.of("c-1", List.of("client-2"))),
        "00000001000103722d3103632d3107353025206f6666064976616e6f760b6976616e6f7640722e727580e2cfaa0690fecfaa0698dacfaa060000000108636c69656e742d31e8d795ffbc310000000103632d310000000108636c69656e742d310000000103632d310000000108636c69656e742d32");
  }

  @Test
  void aLateStepsEvent() throws Exception {
    golden(
        NotifyLateSubscribers.EventCoder.of(),
        NotifyLateSubscribers.Event.released(CAMPAIGN),
        "01000103722d3103632d3107353025206f6666064976616e6f760b6976616e6f7640722e727580e2cfaa0690fecfaa0698dacfaa06");
    golden(
        NotifyLateSubscribers.EventCoder.of(),
        NotifyLateSubscribers.Event.subscribed(List.of("client-1")),
        "000000000108636c69656e742d31");
  }
}
