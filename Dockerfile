FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY portal ./portal
COPY catalog ./catalog
COPY quality ./quality
COPY storage ./storage
COPY auth ./auth
RUN pip install --no-cache-dir .
EXPOSE 8000
CMD ["dataledger", "serve"]
