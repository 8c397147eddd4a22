"""The evaluation tablet role (窗口服务评价平板)."""
