"""Order writes, one module a topic. Import the module you need
(`from apps.orders.services import transitions`): nothing is re-exported
here, so that the modules can grow side by side."""
