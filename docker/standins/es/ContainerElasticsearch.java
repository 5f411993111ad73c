// Stand-in for the official Elasticsearch image's entry point, for machines that cannot pull it: one node of the same
// Elasticsearch 8 artifacts as `pnpm es:start` (packages/local-elasticsearch/java), configured like the official image from environment
// variables whose names are settings (discovery.type=single-node, cluster.name=..., any `a.b` name), listening on
// 0.0.0.0:9200. X-Pack is not among these artifacts: xpack.* settings set to false are accepted and ignored (that is
// what they would do), and asking for security stops the node with a message rather than running it open.
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.node.ClasspathPluginsNode;
import org.elasticsearch.node.InternalSettingsPreparer;
import org.elasticsearch.node.Node;
import org.elasticsearch.transport.netty4.Netty4Plugin;

public final class ContainerElasticsearch {
  private static final Pattern SETTING_NAME = Pattern.compile("[a-z0-9_]+(\\.[a-z0-9_]+)+");

  public static void main(String[] args) throws Exception {
    Path home = Path.of(System.getenv().getOrDefault("ES_HOME", "/usr/share/elasticsearch"));
    Path config = home.resolve("config");
    Settings.Builder settings = Settings.builder()
      .put("cluster.name", "docker-cluster")
      .put("node.name", System.getenv().getOrDefault("HOSTNAME", "es"))
      .put("path.home", home.toString())
      .put("path.data", home.resolve("data").toString())
      .put("path.logs", home.resolve("logs").toString())
      .put("network.host", "0.0.0.0")
      .put("http.port", 9200)
      .put("transport.port", 9300);
    Map<String, String> fromEnv = new TreeMap<>();
    System.getenv().forEach((name, value) -> {
      if (SETTING_NAME.matcher(name).matches()) fromEnv.put(name, value);
    });
    for (Map.Entry<String, String> e : fromEnv.entrySet()) {
      String name = e.getKey();
      String value = e.getValue();
      if (name.startsWith("xpack.")) {
        if (!value.equalsIgnoreCase("false")) {
          System.err.println("this Elasticsearch stand-in has no X-Pack: " + name + "=" + value + " cannot be honoured");
          System.exit(78);
        }
        System.out.println("setting " + name + "=" + value + " (X-Pack is not in this stand-in: nothing to turn off)");
        continue;
      }
      System.out.println("setting " + name + "=" + value);
      settings.put(name, value);
    }
    if (!fromEnv.containsKey("discovery.type")) {
      settings.putList("cluster.initial_master_nodes", List.of(settings.get("node.name")));
    }

    LogConfigurator.registerErrorListener();
    LogConfigurator.configureESLogging();
    Environment environment =
      InternalSettingsPreparer.prepareEnvironment(settings.build(), Map.of(), config, () -> settings.get("node.name"));
    LogConfigurator.setNodeName(settings.get("node.name"));
    LogConfigurator.configure(environment, true);
    Node node = new ClasspathPluginsNode(environment, List.of(Netty4Plugin.class, RootInfoPlugin.class));
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        node.close();
        node.awaitClose(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        e.printStackTrace();
      }
      stopped.countDown();
    }));
    try {
      node.start();
    } catch (Throwable e) {
      System.err.println("failed to start Elasticsearch: " + e);
      e.printStackTrace();
      System.exit(1);
    }
    stopped.await();
  }
}
