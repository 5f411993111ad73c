package org.elasticsearch.plugins;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

import org.elasticsearch.action.admin.cluster.node.info.PluginsAndModules;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;

/**
 * Plugins service that loads plugin classes already on the classpath (the published transport-netty4 jar) on top of
 * whatever the node's modules/ and plugins/ folders hold (nothing, for our nodes). Lives in Elasticsearch's package
 * because loading a plugin instance and the list of loaded plugins are package-private there.
 */
public class ClasspathPluginsService extends PluginsService {
  private final List<LoadedPlugin> loaded;
  private final PluginsAndModules info;

  public ClasspathPluginsService(Environment environment, PluginsLoader loader, Collection<Class<? extends Plugin>> classes) {
    super(environment.settings(), environment.configDir(), loader);
    Settings settings = environment.settings();
    List<LoadedPlugin> all = new ArrayList<>(super.plugins());
    List<PluginRuntimeInfo> infos = new ArrayList<>(super.info().getPluginInfos());
    for (Class<? extends Plugin> pluginClass : classes) {
      PluginDescriptor descriptor = new PluginDescriptor(
        pluginClass.getName(),
        "classpath plugin",
        "NA",
        org.elasticsearch.Version.CURRENT.toString(),
        Integer.toString(Runtime.version().feature()),
        pluginClass.getName(),
        null,
        List.of(),
        false,
        false,
        false,
        false
      );
      all.add(new LoadedPlugin(descriptor, loadPlugin(pluginClass, settings, environment.configDir()), pluginClass.getClassLoader()));
      infos.add(new PluginRuntimeInfo(descriptor));
    }
    this.loaded = List.copyOf(all);
    this.info = new PluginsAndModules(infos, super.info().getModuleInfos());
  }

  @Override
  protected final List<LoadedPlugin> plugins() {
    return loaded;
  }

  @Override
  public PluginsAndModules info() {
    return info;
  }
}
